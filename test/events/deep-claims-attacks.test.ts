import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { startEventReceiver, type EventReceiverHandle } from '../../src/events/event-receiver-server.js';
import { RegistryFile } from '../../src/events/registry-file.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { tempDir } from '../helpers/warden-process.js';
import { AUDIENCE, CAEP, ISSUER, makeKey, MemoryAudit, mintSet, post, principal, serveJwks, type TestKey } from './set-helpers.js';

/**
 * A token-claims-change whose claims are nested thousands of levels deep (fits easily in the body
 * limit) became a claims override that JSON.stringify cannot write: every later save of the
 * revocations file failed on it, so for the whole retention no revocation (from an event or from
 * `warden revoke`) survived a restart. Claims nested beyond any real token's are not an override.
 */
const NOW_SEC = 1_700_000_000;

/** A SET whose claims are given as raw JSON text (too deep for JSON.stringify to build here). */
async function rawSet(key: TestKey, subject: string, claimsJson: string): Promise<string> {
  const payload = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","iat":${NOW_SEC},"jti":"raw-${subject}","sub_id":{"format":"opaque","id":"${subject}"},"events":{"${CAEP}token-claims-change":{"claims":${claimsJson}}}}`;
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256', kid: key.jwk.kid, typ: 'secevent+jwt' }).sign(key.privateKey);
}

function deep(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 0; i < levels; i++) {
    const next: Record<string, unknown> = {};
    node.d = next;
    node = next;
  }
  return root;
}

describe('a claims change nested too deeply to be saved', () => {
  const now = NOW_SEC * 1000;
  let key: TestKey;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let receiver: EventReceiverHandle;
  let registry: SubjectRegistry;
  let file: string;
  const audit = new MemoryAudit();

  beforeAll(async () => {
    key = await makeKey('k1');
    jwks = await serveJwks([key.jwk]);
    file = join(tempDir('warden-deep-claims-'), 'revocations.json');
    const config = EventsConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: jwks.url }, algorithms: ['ES256'] },
    });
    const store = new MemoryStateStore();
    registry = new SubjectRegistry({ settings: config, store, audit, clock: () => now, file: new RegistryFile(file) });
    receiver = await startEventReceiver(config, { registry, audit, clock: () => now, store });
  });
  afterAll(async () => {
    await receiver.close();
    await jwks.close();
  });

  it('is acknowledged without effect and does not stop later revocations from being saved', async () => {
    const claims = await rawSet(key, 'mallory', `{"scope":"admin","d":${'{"d":'.repeat(5_000)}1${'}'.repeat(5_000)}}`);
    expect((await post(receiver.url, claims)).status).toBe(202);
    expect(registry.list(now).filter((e) => e.kind === 'claims')).toHaveLength(0);
    expect(audit.ofType('event.effect').at(-1)).toMatchObject({ effect: 'none' });

    const revoke = await mintSet({
      key,
      iatSec: NOW_SEC,
      subId: { format: 'opaque', id: 'alice' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC } },
    });
    expect((await post(receiver.url, revoke)).status).toBe(202);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { entries: { kind: string; match: { user?: string } }[] };
    expect(saved.entries.some((e) => e.kind === 'revoke' && e.match.user === 'alice')).toBe(true);
    expect(registry.evaluate(principal({ user: 'alice', issuedAt: NOW_SEC - 60 }), 'w', now).kind).toBe('revoked');
  });

  it('still applies a claims change nested like real tokens (an address claim, realm roles)', async () => {
    const set = await mintSet({
      key,
      iatSec: NOW_SEC,
      subId: { format: 'opaque', id: 'bob' },
      events: { [`${CAEP}token-claims-change`]: { claims: { realm_access: { roles: ['reader'] }, address: { country: 'NL' }, d: deep(16) } } },
    });
    expect((await post(receiver.url, set)).status).toBe(202);
    const bob = registry.effectivePrincipal(principal({ user: 'bob', issuedAt: NOW_SEC - 60 }), 'w', now);
    expect(bob.claims['realm_access']).toEqual({ roles: ['reader'] });
  });
});
