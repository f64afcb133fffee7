import { describe, expect, it } from 'vitest';
import { collectSignals, observeOutcome } from '../../src/signals/collect-signals.js';
import { peekSignals } from '../../src/signals/peek-signals.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { principal, request } from '../helpers/policy-helpers.js';
import { ALL_SIGNALS } from '../helpers/async-only-store.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

/**
 * peekSignals re-judges a standing subscription: it must see what the call would see now, and
 * count nothing (an agent's subscriptions re-checked on every reload would otherwise raise its
 * rate, burst and distinct-resource counts, and make values "seen", without it asking anything).
 */
describe('peekSignals', () => {
  it('returns what collectSignals would for the same call, and leaves the store as it was', async () => {
    const peeked = new MemoryStateStore();
    const untouched = new MemoryStateStore();
    const reqs = [
      request({ tool: 'pay', arguments: { payee: 'bob', id: 7 } }),
      request({ tool: 'read', arguments: { path: '/a', id: 'x'.repeat(300) }, principal: principal({ actor: 'agent-8' }) }),
      request({ tool: 'read', arguments: { path: '/b' }, remoteAddress: '10.0.0.2', sessionId: 's1' }),
      request({ tool: 'pay', arguments: { payee: { nested: ['bob'] } }, userAgent: 'other/2' }),
    ];
    for (let i = 0; i < 40; i++) {
      const req = reqs[i % reqs.length]!;
      const now = T0 + i * 7_000;
      // Peeked (several times: a re-check of many subscriptions) on one store only.
      const peek = await peekSignals(peeked, req, now, ALL_SIGNALS);
      await peekSignals(peeked, req, now, ALL_SIGNALS);
      const a = await collectSignals(peeked, req, now, ALL_SIGNALS);
      const b = await collectSignals(untouched, req, now, ALL_SIGNALS);
      expect(a).toEqual(b);
      expect(peek).toEqual(a);
      const outcome = { status: i % 3 === 0 ? ('error' as const) : ('ok' as const), resultBytes: 100 * i, resultItems: i % 4 };
      await observeOutcome(peeked, req, outcome, now, ALL_SIGNALS);
      await observeOutcome(untouched, req, outcome, now, ALL_SIGNALS);
    }
  });
});
