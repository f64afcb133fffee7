import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { startEventReceiver, type EventReceiverHandle } from '../../src/events/event-receiver-server.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { AUDIENCE, CAEP, ISSUER, makeKey, MemoryAudit, mintSet, post, serveJwks, type TestKey } from './set-helpers.js';

/**
 * The duplicate check must outlive every SET it would still accept: a SET is accepted while its
 * `iat` is at most `replayWindowSeconds` old, and `iat` may lie up to `clockToleranceSeconds` in
 * the future. A jti remembered only `replayWindowSeconds` from receipt was forgotten while a
 * future-dated SET was still acceptable, and a replay then applied again.
 */
const NOW_SEC = 1_700_000_000;

/** A StateStore whose expiry follows the test's clock (the memory store's follows real time). */
function clockedStore(clock: () => number): StateStore {
  const inner = new MemoryStateStore();
  const expiry = new Map<string, number>();
  const live = (k: string): boolean => {
    const until = expiry.get(k);
    if (until !== undefined && clock() >= until) {
      expiry.delete(k);
      void inner.delete(k);
      return false;
    }
    return true;
  };
  const remember = (k: string, ttl?: number): void => {
    if (ttl === undefined) expiry.delete(k);
    else expiry.set(k, clock() + ttl);
  };
  return {
    get: async (k) => (live(k) ? inner.get(k) : undefined),
    set: async (k, v, ttl) => {
      remember(k, ttl);
      await inner.set(k, v);
    },
    delete: (k) => inner.delete(k),
    setIfAbsent: async (k, v, ttl) => {
      live(k);
      const fresh = await inner.setIfAbsent(k, v);
      if (fresh) remember(k, ttl);
      return fresh;
    },
    addToWindow: (k, a, w, n) => inner.addToWindow(k, a, w, n),
    addToWindows: (g, m, a, w, n) => inner.addToWindows(g, m, a, w, n),
    sumWindow: (k, w, n) => inner.sumWindow(k, w, n),
    keys: async (p) => (await inner.keys(p)).filter(live),
    healthy: () => true,
  };
}

describe('SET replay window and clock tolerance', () => {
  let now = NOW_SEC * 1000;
  const clock = () => now;
  let key: TestKey;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let receiver: EventReceiverHandle;
  let registry: SubjectRegistry;
  const audit = new MemoryAudit();

  beforeAll(async () => {
    key = await makeKey('k1');
    jwks = await serveJwks([key.jwk]);
    const config = EventsConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: jwks.url }, algorithms: ['ES256'] },
      replayWindowSeconds: 3600,
      clockToleranceSeconds: 60,
    });
    const store = clockedStore(clock);
    registry = new SubjectRegistry({ settings: config, store, audit, clock });
    receiver = await startEventReceiver(config, { registry, audit, clock, store });
  });
  afterAll(async () => {
    await receiver.close();
    await jwks.close();
  });

  it('refuses to re-apply a future-dated SET replayed just after the replay window from its receipt', async () => {
    const set = await mintSet({
      key,
      iatSec: NOW_SEC + 50, // the transmitter's clock runs 50 s ahead: within tolerance
      subId: { format: 'iss_sub', iss: ISSUER, sub: 'mallory' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC } },
    });
    expect((await post(receiver.url, set)).status).toBe(202);
    const entries = registry.list(now).length;
    now += (3600 + 30) * 1000; // past the window counted from receipt, inside it counted from iat
    expect((await post(receiver.url, set)).status).toBe(202);
    const received = audit.ofType('event.received').filter((r) => r['accepted'] === true);
    expect(received.map((r) => r['duplicate'])).toEqual([false, true]);
    expect(registry.list(now).length).toBe(entries);
  });
});
