import { describe, expect, it } from 'vitest';
import { collectSignals, observeOutcome } from '../../src/signals/collect-signals.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { ALL_SIGNALS, asyncOnly } from '../helpers/async-only-store.js';
import { principal, request } from '../helpers/policy-helpers.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MAX = 1_000;

const victim = principal({ user: 'vic@acme.example', actor: 'agent-v' });
const attacker = principal({ user: 'mallory@acme.example', actor: 'agent-m' });

/**
 * Another principal's calls in its one session, each naming 8 fresh resources and a fresh payee:
 * every call adds store entries whether or not it is allowed, as fast as warden takes calls.
 */
async function flood(store: Parameters<typeof collectSignals>[0], calls: number, now: number): Promise<void> {
  for (let i = 0; i < calls; i++) {
    const ids = Array.from({ length: 8 }, (_, j) => `doc-${i}-${j}`);
    await collectSignals(store, request({ principal: attacker, sessionId: 'm1', tool: 'read', arguments: { id: ids, payee: `p-${i}` } }), now, ALL_SIGNALS);
  }
}

describe.each([
  ['synchronous', () => new MemoryStateStore({ maxEntries: MAX })],
  ['general', () => asyncOnly(new MemoryStateStore({ maxEntries: MAX }))],
])('one principal flooding the state store (%s path)', (_name, makeStore) => {
  it('cannot evict another session\'s first address, so a hijack from a new address is still noticed', async () => {
    const store = makeStore();
    await collectSignals(store, request({ principal: victim, sessionId: 'v1', remoteAddress: '10.0.0.1' }), T0, ALL_SIGNALS);
    await flood(store, MAX, T0 + 1_000);
    const later = await collectSignals(store, request({ principal: victim, sessionId: 'v1', remoteAddress: '203.0.113.9' }), T0 + 2_000, ALL_SIGNALS);
    expect(later.context.addressChanged).toBe(true);
  });

  it('cannot evict another principal\'s burst baseline, so its sudden burst is still measured against it', async () => {
    const store = makeStore();
    // Five quiet buckets of 2 calls: a baseline of 2 with 4 samples.
    for (let b = 0; b < 5; b++) {
      for (let c = 0; c < 2; c++) await collectSignals(store, request({ principal: victim }), T0 + b * 10_000 + c, ALL_SIGNALS);
    }
    await flood(store, MAX, T0 + 50_000);
    const next = await collectSignals(store, request({ principal: victim }), T0 + 50_001, ALL_SIGNALS);
    expect(next.burst.samples).toBeGreaterThanOrEqual(4);
    expect(next.burst.baseline).toBeCloseTo(2, 5);
  });
});

/**
 * One principal's counters (per-tool rates, the overall rate, returned bytes and items, distinct
 * resources) share one bounded group of 256 members. Pruning a full group took the
 * longest-standing member first: calling a few hundred distinct tools (several upstreams, or one
 * that lists many) evicted the overall rate and the volume counters, which restarted at zero, so
 * an agent could read past `volume.maxBytes` or `rate.overall` by interleaving cheap calls.
 */
describe.each([
  ['synchronous', () => new MemoryStateStore()],
  ['general', () => asyncOnly(new MemoryStateStore())],
])('one principal calling many distinct tools (%s path)', (_name, makeStore) => {
  it('cannot evict its own overall rate and volume counters by calling hundreds of tools', async () => {
    const store = makeStore();
    const who = principal({ user: 'mallory@acme.example', actor: 'agent-m' });
    const big = request({ principal: who, tool: 'export' });
    await collectSignals(store, big, T0, ALL_SIGNALS);
    await observeOutcome(store, big, { status: 'ok', resultBytes: 4_000_000, resultItems: 900 }, T0, ALL_SIGNALS);
    let now = T0;
    for (let i = 0; i < 400; i++) {
      now += 10;
      await collectSignals(store, request({ principal: who, tool: `tool-${i}` }), now, ALL_SIGNALS);
    }
    const last = await collectSignals(store, big, now + 10, ALL_SIGNALS);
    expect(last.rate.overall).toBe(402);
    expect(last.volume.bytes).toBe(4_000_000);
    expect(last.volume.items).toBe(900);
  });
});
