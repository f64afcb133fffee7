import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { startEventReceiver, type EventReceiverHandle } from '../../src/events/event-receiver-server.js';
import { RegistryFile } from '../../src/events/registry-file.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { tempDir } from '../helpers/warden-process.js';
import { AUDIENCE, CAEP, ISSUER, makeKey, MemoryAudit, mintSet, post, serveJwks, type TestKey } from './set-helpers.js';

/**
 * A security event whose entry warden could not write to the revocations file is in force only
 * until this warden stops (a stdio warden stops with its agent). Answering 202 told the
 * transmitter it was done, so it never sent the event again: after a restart the revoked tokens
 * worked again, and nothing but a log line said so. The SET must be answered with a retryable
 * error (and its jti forgotten), so the transmitter's retry is saved once the file can be written.
 */
const NOW_SEC = 1_700_000_000;

/** A SET receiver (keys from a JWKS served on loopback) whose revocations file can never be written. */
async function receiverThatCannotSave(prefix: string, deps: { store: MemoryStateStore; audit: MemoryAudit; now: number; hooks?: string[] }) {
  const key = await makeKey('k1');
  const jwks = await serveJwks([key.jwk]);
  // A regular file where the revocations folder should be: every save fails (even as root).
  const blocker = join(tempDir(prefix), 'state');
  writeFileSync(blocker, 'not a folder');
  const file = join(blocker, 'revocations.json');
  const config = EventsConfigSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: jwks.url }, algorithms: ['ES256'] },
  });
  const { store, audit, now, hooks } = deps;
  const registry = new SubjectRegistry({
    settings: config, store, audit, clock: () => now, file: new RegistryFile(file),
    ...(hooks ? {
      onRevoke: (effect: { eventId: string }) => void hooks.push(`revoke:${effect.eventId}`),
      onClaimsChange: (effect: { eventId: string }) => void hooks.push(`claims:${effect.eventId}`),
      onStepUp: (effect: { eventId: string }) => void hooks.push(`step_up:${effect.eventId}`),
    } : {}),
  });
  const receiver = await startEventReceiver(config, { registry, audit, clock: () => now, store });
  return { key, jwks, blocker, file, registry, receiver };
}

describe('SET receiver when the revocations file cannot be written', () => {
  const now = NOW_SEC * 1000;
  let key: TestKey;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let receiver: EventReceiverHandle;
  let registry: SubjectRegistry;
  let blocker: string;
  let file: string;
  const store = new MemoryStateStore();
  const audit = new MemoryAudit();

  beforeAll(async () => {
    ({ key, jwks, blocker, file, registry, receiver } = await receiverThatCannotSave('warden-unsaved-', { store, audit, now }));
  });
  afterAll(async () => {
    await receiver.close();
    await jwks.close();
  });

  it('answers a revocation it could not save with a retryable 503 and processes the retry', async () => {
    const set = await mintSet({
      key,
      iatSec: NOW_SEC,
      jti: 'unsaved-1',
      subId: { format: 'iss_sub', iss: ISSUER, sub: 'alice' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC } },
    });
    const first = await post(receiver.url, set);
    expect(first.status).toBe(503);
    // In force here all the same (fail closed), but not remembered as received.
    expect(registry.list(now).some((e) => e.kind === 'revoke' && e.match.user === 'alice')).toBe(true);
    expect(await store.keys('events:jti:')).toEqual([]);

    // The disk is fixed; the transmitter sends the SET again.
    rmSync(blocker);
    mkdirSync(blocker);
    const retry = await post(receiver.url, set);
    expect(retry.status).toBe(202);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { entries: { match: { user?: string } }[] };
    expect(saved.entries.some((e) => e.match.user === 'alice')).toBe(true);
  });
});

/**
 * While the revocations file cannot be written, the transmitter retries every SET answered 503.
 * Each retry added a registry entry of its own and re-ran the revocation's hooks (sessions closed,
 * approvals withdrawn, grants retired): memory and work grew with the retries, not the events.
 * An identical retry (same jti, or the same subject and cut-off under a new jti) reuses the entry
 * in force; it is still answered 503 until the save succeeds.
 */
describe('SET receiver: retries while the revocations file cannot be written (registry growth per retry)', () => {
  const now = NOW_SEC * 1000;
  let key: TestKey;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let receiver: EventReceiverHandle;
  let registry: SubjectRegistry;
  let blocker: string;
  let file: string;
  const hooks: string[] = [];
  const store = new MemoryStateStore();
  const audit = new MemoryAudit();
  const alice = { format: 'iss_sub', iss: ISSUER, sub: 'alice' };
  const aliceEntries = (kind: string) => registry.list(now).filter((e) => e.kind === kind && e.match.user === 'alice');

  beforeAll(async () => {
    ({ key, jwks, blocker, file, registry, receiver } = await receiverThatCannotSave('warden-unsaved-retries-', { store, audit, now, hooks }));
  });
  afterAll(async () => {
    await receiver.close();
    await jwks.close();
  });

  it('a revoking SET retried five times keeps one entry and runs its hooks once, 503 each time until the file is saved', async () => {
    const set = await mintSet({ key, iatSec: NOW_SEC, jti: 'retried-1', subId: alice, events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC - 10 } } });
    for (let i = 0; i < 5; i += 1) expect((await post(receiver.url, set)).status).toBe(503);
    // The transmitter mints the same event again under a new jti: same subject, same cut-off.
    const reminted = await mintSet({ key, iatSec: NOW_SEC, jti: 'retried-1-again', subId: alice, events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC - 10 } } });
    expect((await post(receiver.url, reminted)).status).toBe(503);
    expect(aliceEntries('revoke')).toHaveLength(1);
    expect(hooks.filter((h) => h.startsWith('revoke:'))).toEqual(['revoke:retried-1']);
    expect(audit.ofType('revocation')).toHaveLength(1);
    const [entry] = aliceEntries('revoke');
    // Every retry's effect names the one entry in force.
    expect(new Set(audit.ofType('event.effect').map((e) => (e as { entryId?: string }).entryId))).toEqual(new Set([entry!.id]));

    // The disk is fixed: the next retry is saved, answered 202, and the file holds the one entry.
    rmSync(blocker);
    mkdirSync(blocker);
    expect((await post(receiver.url, set)).status).toBe(202);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { entries: { id: string; match: { user?: string } }[] };
    expect(saved.entries.filter((e) => e.match.user === 'alice').map((e) => e.id)).toEqual([entry!.id]);
    expect(aliceEntries('revoke')).toHaveLength(1);
    rmSync(blocker, { recursive: true });
    writeFileSync(blocker, 'not a folder');
  });

  it('a later cut-off for the same subject is a new event: it gets its own entry (it revokes more)', async () => {
    const before = aliceEntries('revoke').length;
    const later = await mintSet({ key, iatSec: NOW_SEC, subId: alice, events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC - 5 } } });
    expect((await post(receiver.url, later)).status).toBe(503);
    expect(aliceEntries('revoke')).toHaveLength(before + 1);
  });

  it('a retried claims change reuses its entry; other claims for the same subject and cut-off do not', async () => {
    const claimsSet = (claims: Record<string, unknown>, jti: string) =>
      mintSet({ key, iatSec: NOW_SEC, jti, subId: alice, events: { [`${CAEP}token-claims-change`]: { event_timestamp: NOW_SEC - 10, claims } } });
    const contractor = await claimsSet({ employment: 'contractor' }, 'claims-1');
    for (let i = 0; i < 3; i += 1) expect((await post(receiver.url, contractor)).status).toBe(503);
    expect(aliceEntries('claims')).toHaveLength(1);
    expect(hooks.filter((h) => h.startsWith('claims:'))).toEqual(['claims:claims-1']);
    expect((await post(receiver.url, await claimsSet({ employment: 'staff' }, 'claims-2'))).status).toBe(503);
    expect(aliceEntries('claims')).toHaveLength(2);
  });
});
