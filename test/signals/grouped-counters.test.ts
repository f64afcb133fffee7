import { describe, expect, it } from 'vitest';
import { collectSignals, observeOutcome } from '../../src/signals/collect-signals.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { principal, request } from '../helpers/policy-helpers.js';
import { ALL_SIGNALS, asyncOnly } from '../helpers/async-only-store.js';
import { referenceCollectSignals, referenceObserveOutcome } from '../helpers/perf-guard-signals-reference.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const OPTS = ALL_SIGNALS;

/** A small deterministic PRNG so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('counters grouped per principal', () => {
  it('compute exactly the signals of one counter per key, on both paths, over a long mixed run', async () => {
    const rnd = prng(7);
    const reference = new MemoryStateStore();
    const fast = new MemoryStateStore();
    const general = asyncOnly(new MemoryStateStore());
    const principals = [principal(), principal({ actor: 'agent-8' }), principal({ user: 'bob' }), principal({ actor: undefined })];
    const tools = ['pay', 'read', 'echo', 'x'.repeat(80)];
    const classes = ['payments', 'read', 'default'];
    let now = T0;
    for (let i = 0; i < 3000; i++) {
      // Mostly dense calls, now and then a gap that ages windows and buckets out.
      now += rnd() < 0.02 ? Math.floor(rnd() * 900_000) : Math.floor(rnd() * 2_500);
      const args = rnd() < 0.5 ? { payee: `p${Math.floor(rnd() * 4)}`, id: Math.floor(rnd() * 20) } : { path: `/f/${Math.floor(rnd() * 9)}` };
      const req = request({
        principal: principals[Math.floor(rnd() * principals.length)]!,
        tool: tools[Math.floor(rnd() * tools.length)]!,
        sessionId: `s${Math.floor(rnd() * 3)}`,
        remoteAddress: rnd() < 0.1 ? '10.9.9.9' : '10.0.0.1',
        arguments: args,
      });
      const o = { ...OPTS, toolClass: classes[Math.floor(rnd() * classes.length)]!, rateWindowMs: i % 500 < 250 ? 60_000 : 30_000 };
      const want = await referenceCollectSignals(reference, req, now, o);
      expect(await collectSignals(fast, req, now, o)).toEqual(want);
      expect(await collectSignals(general, req, now, o)).toEqual(want);
      if (rnd() < 0.8) {
        const outcome = { status: rnd() < 0.8 ? ('ok' as const) : ('error' as const), resultBytes: rnd() < 0.3 ? 0 : Math.floor(rnd() * 5000), resultItems: Math.floor(rnd() * 3) };
        await referenceObserveOutcome(reference, req, outcome, now, o);
        await observeOutcome(fast, req, outcome, now, o);
        await observeOutcome(general, req, outcome, now, o);
      }
    }
  });
});

describe('MemoryStateStore.addToWindows', () => {
  it('counts each member as addToWindow counts its own key', async () => {
    const grouped = new MemoryStateStore();
    const single = new MemoryStateStore();
    const t0 = 1_200_000;
    const steps: [number, number[]][] = [[0, [1, 0, 2]], [30_000, [2, 1, 0]], [59_000, [0, 0, 0]], [64_000, [1, 1, 1]], [200_000, [0, 3, 0]]];
    for (const [dt, amounts] of steps) {
      const got = await grouped.addToWindows('g', ['a', 'b', 'c'], amounts, 60_000, t0 + dt);
      const want = [];
      for (const [i, m] of ['a', 'b', 'c'].entries()) want.push(await single.addToWindow(`g/${m}`, amounts[i]!, 60_000, t0 + dt));
      expect(got).toEqual(want);
    }
  });

  it('sums exactly as single counters do, with calls from the past, fractions, negatives and gaps', async () => {
    const rand = prng(99);
    const grouped = new MemoryStateStore();
    const single = new MemoryStateStore();
    const names = ['a', 'b', 'c', 'd'];
    let now = 5_000_000;
    for (let i = 0; i < 20_000; i++) {
      const r = rand();
      // Mostly forward in small steps; sometimes back (clock skew between replicas), sometimes a long gap.
      now += r < 0.05 ? -Math.floor(rand() * 20_000) : r < 0.07 ? Math.floor(rand() * 200_000) : Math.floor(rand() * 4_000);
      const member = names[i % names.length]!;
      const pick = rand();
      // Member 'd' also gets fractions and negative amounts; the others integers (the running sum's case).
      const amount = pick < 0.3 ? 0 : member === 'd' && pick < 0.4 ? -1.5 : member === 'd' && pick < 0.5 ? 0.1 : Math.floor(rand() * 1_000);
      const windowMs = i % 1000 < 500 ? 60_000 : 7_000;
      const [got] = await grouped.addToWindows('g', [member], [amount], windowMs, now);
      expect(got).toBe(await single.addToWindow(`g/${member}`, amount, windowMs, now));
    }
  });

  it('keeps a group apart from a single counter of the same name', async () => {
    const store = new MemoryStateStore();
    await store.addToWindow('k', 5, 60_000, 0);
    expect(await store.addToWindows('k', ['k'], [1], 60_000, 0)).toEqual([1]);
    expect(await store.sumWindow('k', 60_000, 0)).toBe(5);
  });

  it('stays bounded when one group is flooded with member names', async () => {
    const store = new MemoryStateStore();
    for (let i = 0; i < 2000; i++) await store.addToWindows('g', [`m${i}`], [1], 60_000, 0);
    // The newest members are still counted; the group holds at most its bound.
    expect(await store.addToWindows('g', ['m1999'], [0], 60_000, 0)).toEqual([1]);
    expect(await store.addToWindows('g', ['m0'], [0], 60_000, 0)).toEqual([0]);
  });
});

describe('grouped counters: store faults', () => {
  it('a failing get or set propagates so the guard can block', async () => {
    const broken = new MemoryStateStore();
    broken.get = () => Promise.reject(new Error('down'));
    await expect(collectSignals(broken, request(), T0, OPTS)).rejects.toThrow('down');
  });
});
