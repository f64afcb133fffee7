import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { startEventReceiver, type EventReceiverHandle } from '../../src/events/event-receiver-server.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { AUDIENCE, CAEP, ISSUER, makeKey, MemoryAudit, mintSet, post, type TestKey } from './set-helpers.js';

/**
 * A transmitter treats a 400 as final: the SET is dropped. When warden cannot fetch the
 * transmitter's keys (key server down, or kept down by an attacker), answering 400 lost every
 * revocation sent meanwhile. The SET is not at fault; the answer must let the transmitter retry.
 */
describe('SET receiver while the transmitter keys cannot be fetched', () => {
  const now = Date.now();
  let key: TestKey;
  let receiver: EventReceiverHandle;
  let registry: SubjectRegistry;
  const store = new MemoryStateStore();
  const audit = new MemoryAudit();

  beforeAll(async () => {
    key = await makeKey('k1');
    // A port that refuses connections: bound, then closed.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const config = EventsConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: `http://127.0.0.1:${port}/jwks.json` }, algorithms: ['ES256'] },
    });
    registry = new SubjectRegistry({ settings: config, store, audit, clock: () => now });
    receiver = await startEventReceiver(config, { registry, audit, clock: () => now, store });
  });
  afterAll(async () => receiver.close());

  it('answers a revocation it cannot verify for lack of keys with a retryable 503, not a final 400', async () => {
    const set = await mintSet({
      key,
      iatSec: Math.floor(now / 1000),
      subId: { format: 'iss_sub', iss: ISSUER, sub: 'alice' },
      events: { [`${CAEP}session-revoked`]: {} },
    });
    const res = await post(receiver.url, set);
    expect(res.status).toBe(503);
    expect(registry.list(now)).toHaveLength(0);
    // Nothing remembered: the retry (once the keys are back) is processed, not taken for a replay.
    expect(await store.keys('events:jti:')).toEqual([]);
  });
});
