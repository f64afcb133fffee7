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
    key = await makeKey('k1');
    jwks = await serveJwks([key.jwk]);
    const dir = tempDir('warden-unsaved-');
    // A regular file where the revocations folder should be: every save fails (even as root).
    blocker = join(dir, 'state');
    writeFileSync(blocker, 'not a folder');
    file = join(blocker, 'revocations.json');
    const config = EventsConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: jwks.url }, algorithms: ['ES256'] },
    });
    registry = new SubjectRegistry({ settings: config, store, audit, clock: () => now, file: new RegistryFile(file) });
    receiver = await startEventReceiver(config, { registry, audit, clock: () => now, store });
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
