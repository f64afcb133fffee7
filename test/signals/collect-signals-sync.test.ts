import { describe, expect, it } from 'vitest';
import { collectSignals, observeOutcome } from '../../src/signals/collect-signals.js';
import { isSyncSignalStore } from '../../src/signals/collect-signals-sync.js';
import type { SignalOptions } from '../../src/signals/signals.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { principal, request } from '../helpers/policy-helpers.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const OPTS: SignalOptions = {
  rateWindowMs: 60_000, toolClass: 'payments', burstBucketMs: 10_000, burstAlpha: 0.5, volumeWindowMs: 600_000,
  resourceArgs: ['path', 'id'], noveltyArguments: [{ name: 'payee', path: 'payee' }], rememberMs: 86_400_000,
};

/** The same in-memory store seen only through the async StateStore methods (forces the general path). */
function asyncOnly(inner: MemoryStateStore): StateStore {
  return {
    get: (k) => inner.get(k),
    set: (k, v, t) => inner.set(k, v, t),
    delete: (k) => inner.delete(k),
    setIfAbsent: (k, v, t) => inner.setIfAbsent(k, v, t),
    addToWindow: (k, a, w, n) => inner.addToWindow(k, a, w, n),
    addToWindows: (g, m, a, w, n) => inner.addToWindows(g, m, a, w, n),
    sumWindow: (k, w, n) => inner.sumWindow(k, w, n),
    keys: (p) => inner.keys(p),
    healthy: () => inner.healthy(),
  };
}

describe('collectSignals on the in-memory store (synchronous fast path)', () => {
  it('takes the fast path only for stores with the synchronous methods', () => {
    expect(isSyncSignalStore(new MemoryStateStore())).toBe(true);
    expect(isSyncSignalStore(asyncOnly(new MemoryStateStore()))).toBe(false);
  });

  it('computes exactly what the general path computes, call after call, with outcomes fed back', async () => {
    const fast = new MemoryStateStore();
    const general = asyncOnly(new MemoryStateStore());
    const reqs = [
      request({ tool: 'pay', arguments: { payee: 'bob', id: 7 } }),
      request({ tool: 'pay', arguments: { payee: 'eve', path: '/a' } }),
      request({ tool: 'read', arguments: { path: '/a', id: 'x'.repeat(300) }, principal: principal({ actor: 'agent-8' }) }),
      request({ tool: 'read', arguments: { path: '/b' }, remoteAddress: '10.0.0.2', sessionId: 's1' }),
      request({ tool: 'pay', arguments: { payee: { nested: ['bob'] } }, userAgent: 'other/2' }),
    ];
    for (let i = 0; i < 60; i++) {
      const req = reqs[i % reqs.length]!;
      const now = T0 + i * 7_000;
      const a = await collectSignals(fast, req, now, OPTS);
      const b = await collectSignals(general, req, now, OPTS);
      expect(a).toEqual(b);
      const outcome = { status: i % 3 === 0 ? ('error' as const) : ('ok' as const), resultBytes: 100 * i, resultItems: i % 4 };
      await observeOutcome(fast, req, outcome, now, OPTS);
      await observeOutcome(general, req, outcome, now, OPTS);
    }
  });
});
