import { describe, expect, it } from 'vitest';
import { collectSignals, observeOutcome } from '../../src/signals/collect-signals.js';
import { isSyncSignalStore } from '../../src/signals/collect-signals-sync.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { principal, request } from '../helpers/policy-helpers.js';
import { ALL_SIGNALS, asyncOnly } from '../helpers/async-only-store.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const OPTS = ALL_SIGNALS;

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
