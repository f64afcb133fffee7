import { describe, expect, it } from 'vitest';
import { collectSignals, observeOutcome } from '../../src/signals/collect-signals.js';
import { stepBurst, type BurstState } from '../../src/signals/burst.js';
import { DEFAULT_SIGNAL_OPTIONS, type SignalOptions } from '../../src/signals/signals.js';
import { CHURN_PREFIXES, MemoryStateStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { asyncOnly } from '../helpers/async-only-store.js';
import { principal, request } from '../helpers/policy-helpers.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const OPTS: SignalOptions = {
  rateWindowMs: 60_000,
  toolClass: 'payments',
  burstBucketMs: 60_000,
  burstAlpha: 0.5,
  volumeWindowMs: 600_000,
  resourceArgs: ['path', 'id'],
  noveltyArguments: [{ name: 'payee', path: 'payee' }],
  rememberMs: 86_400_000,
};
const ok = { status: 'ok' as const, resultBytes: 0, resultItems: 0 };

describe('collectSignals: rates', () => {
  it('counts per tool, per class, per user+agent and per user, and the window slides', async () => {
    const store = new MemoryStateStore();
    const a1 = request({ tool: 'pay' });
    const a2 = request({ tool: 'other', principal: principal({ actor: 'agent-8' }) });
    await collectSignals(store, a1, T0, OPTS);
    await collectSignals(store, a1, T0 + 1000, OPTS);
    const s = await collectSignals(store, a2, T0 + 2000, OPTS);
    expect(s.rate).toEqual({ windowMs: 60_000, tool: 1, toolClass: 1, overall: 1, user: 3 });
    const again = await collectSignals(store, a1, T0 + 3000, OPTS);
    expect(again.rate).toMatchObject({ tool: 3, toolClass: 3, overall: 3, user: 4 });
    const later = await collectSignals(store, a1, T0 + 120_000, OPTS);
    expect(later.rate).toMatchObject({ tool: 1, overall: 1, user: 1 });
  });
});

describe('collectSignals: an agent is (act.iss, sub)', () => {
  it('an actor with the same sub from another issuer neither shares nor inherits this agent\'s rate windows and baseline', async () => {
    const store = new MemoryStateStore();
    const ours = request({ tool: 'pay', principal: principal({ actor: 'agent-7', actorIssuer: 'https://agents.a' }) });
    const coTenant = request({ tool: 'pay', principal: principal({ actor: 'agent-7', actorIssuer: 'https://agents.b' }) });
    const noIssuer = request({ tool: 'pay', principal: principal({ actor: 'agent-7' }) });
    // Our agent builds a history (three quiet buckets) and a current burst.
    for (let m = 0; m < 3; m++) await collectSignals(store, ours, T0 + m * 60_000, OPTS);
    for (let i = 0; i < 5; i++) await collectSignals(store, ours, T0 + 3 * 60_000 + i, OPTS);
    for (const other of [coTenant, noIssuer]) {
      const s = await collectSignals(store, other, T0 + 3 * 60_000 + 10, OPTS);
      // Its own first call: none of our agent's calls, none of its baseline (the user's totals are shared).
      expect(s.rate).toMatchObject({ tool: 1, overall: 1 });
      expect(s.burst).toMatchObject({ current: 1, samples: 0 });
    }
  });
});

describe('collectSignals: burst against the principal baseline', () => {
  it('stepBurst folds finished buckets into an EWMA and skips idle gaps', () => {
    let s: BurstState | undefined;
    for (let i = 0; i < 3; i++) s = stepBurst(s, T0 + i * 1000, 60_000, 0.5);
    expect(s).toMatchObject({ count: 3, samples: 0 });
    s = stepBurst(s, T0 + 60_000, 60_000, 0.5);
    expect(s).toMatchObject({ ewma: 3, samples: 1, count: 1 });
    s = stepBurst(s, T0 + 10 * 60_000, 60_000, 0.5);
    expect(s).toMatchObject({ ewma: 0.5 * 1 + 0.5 * 3, samples: 2, count: 1 });
  });
  it('reports the current bucket count and the baseline', async () => {
    const store = new MemoryStateStore();
    const req = request();
    for (let m = 0; m < 3; m++) for (let i = 0; i < 2; i++) await collectSignals(store, req, T0 + m * 60_000 + i * 1000, OPTS);
    let last;
    for (let i = 0; i < 20; i++) last = await collectSignals(store, req, T0 + 3 * 60_000 + i * 100, OPTS);
    expect(last?.burst).toEqual({ current: 20, baseline: 2, samples: 3, user: { current: 20, baseline: 2, samples: 3 } });
  });
});

describe('collectSignals: volume and distinct resources', () => {
  it('sums returned bytes and items from observeOutcome within the window', async () => {
    const store = new MemoryStateStore();
    const req = request({ tool: 'list_customers' });
    await observeOutcome(store, req, { status: 'ok', resultBytes: 1000, resultItems: 10 }, T0, OPTS);
    await observeOutcome(store, req, { status: 'tool_error', resultBytes: 500, resultItems: 1 }, T0 + 1000, OPTS);
    const s = await collectSignals(store, req, T0 + 2000, OPTS);
    expect(s.volume).toMatchObject({ bytes: 1500, items: 11 });
    const later = await collectSignals(store, req, T0 + 700_000, OPTS);
    expect(later.volume).toMatchObject({ bytes: 0, items: 0 });
  });
  it('ignores non-finite or negative sizes', async () => {
    const store = new MemoryStateStore();
    const req = request();
    await observeOutcome(store, req, { status: 'ok', resultBytes: Number.NaN, resultItems: -5 }, T0, OPTS);
    expect((await collectSignals(store, req, T0, OPTS)).volume).toMatchObject({ bytes: 0, items: 0 });
  });
  it('counts each resource in an array (batching into one call cannot dodge the distinct-resource limit)', async () => {
    for (const sync of [true, false]) {
      const store = sync ? new MemoryStateStore() : asyncOnly(new MemoryStateStore());
      const ids = Array.from({ length: 30 }, (_, i) => `c-${i}`);
      const s = await collectSignals(store, request({ tool: 'get', arguments: { id: ids } }), T0, OPTS);
      // Only a few are looked up per call (bounded store work); the rest count as new.
      expect(s.volume.distinctResources, sync ? 'sync store' : 'async store').toBe(30);
      const again = await collectSignals(store, request({ tool: 'get', arguments: { id: ids.slice(0, 3) } }), T0 + 1, OPTS);
      expect(again.volume.distinctResources).toBe(30);
    }
  });
  it('read_multiple_files paths count as resources by default', async () => {
    const store = new MemoryStateStore();
    const paths = Array.from({ length: 12 }, (_, i) => `/w/f${i}.txt`);
    const s = await collectSignals(store, request({ tool: 'read_multiple_files', arguments: { paths } }), T0, DEFAULT_SIGNAL_OPTIONS);
    expect(s.volume.distinctResources).toBe(12);
  });
  it('counts resources that share a long prefix apart (padding the front of a URL cannot make them one)', async () => {
    const pad = `https://crm.example/api/customer?pad=${'a'.repeat(5000)}`;
    for (const sync of [true, false]) {
      const store = sync ? new MemoryStateStore() : asyncOnly(new MemoryStateStore());
      for (let i = 0; i < 5; i++) await collectSignals(store, request({ tool: 'get', arguments: { id: `${pad}&id=${i}` } }), T0 + i, OPTS);
      const s = await collectSignals(store, request({ tool: 'get', arguments: { id: [`${pad}&id=5`, `${pad}&id=6`] } }), T0 + 10, OPTS);
      expect(s.volume.distinctResources, sync ? 'sync store' : 'async store').toBe(7);
    }
  });
  it('counts distinct resources, not repeated ones', async () => {
    const store = new MemoryStateStore();
    for (const id of [1, 2, 2, 3, 1]) await collectSignals(store, request({ tool: 'get', arguments: { id } }), T0, OPTS);
    const s = await collectSignals(store, request({ tool: 'get', arguments: { id: 4 } }), T0, OPTS);
    expect(s.volume.distinctResources).toBe(4);
  });
});

describe('collectSignals: user keys', () => {
  /**
   * The user-level key was `${issuer}|${user}` unescaped (the user+agent key escapes its parts):
   * user `x|y` of issuer `https://idp` and user `y` of an issuer `https://idp|x` shared one
   * key, so one identity provider's user counted in, and made payees familiar for, another's.
   */
  it('a user id holding the separator does not share counters with another issuer\'s user', async () => {
    const store = new MemoryStateStore();
    const a = principal({ issuer: 'https://idp', user: 'x|y', actor: undefined });
    const b = principal({ issuer: 'https://idp|x', user: 'y', actor: undefined });
    await observeOutcome(store, request({ tool: 'pay', principal: a, arguments: { payee: 'ACME' } }), ok, T0, OPTS);
    for (let i = 0; i < 5; i++) await collectSignals(store, request({ tool: 'pay', principal: a }), T0 + i, OPTS);
    const s = await collectSignals(store, request({ tool: 'pay', principal: b, arguments: { payee: 'ACME' } }), T0 + 10, OPTS);
    expect(s.rate.user).toBe(1);
    expect(s.novelty.arguments).toEqual(['payee']);
  });
});

describe('collectSignals: novelty', () => {
  it('a tool stays novel until a call succeeds (a blocked first attempt does not make it familiar)', async () => {
    const store = new MemoryStateStore();
    const req = request({ tool: 'pay' });
    expect((await collectSignals(store, req, T0, OPTS)).novelty.tool).toBe(true);
    expect((await collectSignals(store, req, T0 + 1, OPTS)).novelty.tool).toBe(true);
    await observeOutcome(store, req, ok, T0 + 2, OPTS);
    expect((await collectSignals(store, req, T0 + 3, OPTS)).novelty.tool).toBe(false);
  });
  it('a new payee is novel per user, across agents', async () => {
    const store = new MemoryStateStore();
    const pay = (payee: string, actor = 'agent-7') => request({ tool: 'pay', arguments: { payee }, principal: principal({ actor }) });
    expect((await collectSignals(store, pay('ACME'), T0, OPTS)).novelty.arguments).toEqual(['payee']);
    await observeOutcome(store, pay('ACME'), ok, T0, OPTS);
    expect((await collectSignals(store, pay('ACME', 'agent-9'), T0, OPTS)).novelty.arguments).toEqual([]);
    expect((await collectSignals(store, pay('EVIL'), T0, OPTS)).novelty.arguments).toEqual(['payee']);
    const other = request({ tool: 'pay', arguments: { payee: 'ACME' }, principal: principal({ user: 'bob' }) });
    expect((await collectSignals(store, other, T0, OPTS)).novelty.arguments).toEqual(['payee']);
  });

  /**
   * A novelty path with `*` (`payees.*`, `to.*`) read only its first value, so a call naming a
   * known payee first and a new one after it was not novel, and its success made only the first
   * familiar; and a value longer than 4096 characters was keyed by its prefix, so a padded value
   * sharing an approved one's prefix counted as known.
   */
  /**
   * A value canonical JSON cannot spell (a number like 1e400, which JSON.parse reads as Infinity)
   * was keyed as one shared "unrepresentable" value: once one such payee was approved, every
   * other one counted as known.
   */
  it('values that cannot be spelt as JSON are always novel, never one shared known value', async () => {
    const store = new MemoryStateStore();
    const pay = (iban: string) => request({ tool: 'pay', arguments: { payee: { iban, pad: Infinity } } });
    await observeOutcome(store, pay('DE-KNOWN'), ok, T0, OPTS);
    expect((await collectSignals(store, pay('DE-EVIL'), T0, OPTS)).novelty.arguments).toEqual(['payee']);
    expect((await collectSignals(store, pay('DE-KNOWN'), T0, OPTS)).novelty.arguments).toEqual(['payee']);
  });
  it.each([
    ['synchronous', () => new MemoryStateStore()],
    ['general', () => asyncOnly(new MemoryStateStore())],
  ])('a new payee after a known one in a wildcard path is novel, and a padded look-alike too (%s path)', async (_n, makeStore) => {
    const store = makeStore();
    const o: SignalOptions = { ...OPTS, noveltyArguments: [{ name: 'payee', path: 'payees.*' }, { name: 'memo', path: 'memo' }] };
    const pay = (args: Record<string, unknown>) => request({ tool: 'pay', arguments: args });
    const pad = 'x'.repeat(5000);
    await observeOutcome(store, pay({ payees: ['ACME', 'INITECH'], memo: `${pad}ok` }), ok, T0, o);
    expect((await collectSignals(store, pay({ payees: ['INITECH', 'ACME'], memo: `${pad}ok` }), T0, o)).novelty.arguments).toEqual([]);
    expect((await collectSignals(store, pay({ payees: ['ACME', 'EVIL'] }), T0, o)).novelty.arguments).toEqual(['payee']);
    expect((await collectSignals(store, pay({ memo: `${pad}evil` }), T0, o)).novelty.arguments).toEqual(['memo']);
    // More values than are looked up count as new, whatever they are.
    const many = Array.from({ length: 20 }, () => 'ACME');
    many.push('INITECH');
    expect((await collectSignals(store, pay({ payees: ['ACME', ...Array.from({ length: 20 }, (_, i) => `P${i}`)] }), T0, o)).novelty.arguments).toEqual(['payee']);
    expect((await collectSignals(store, pay({ payees: many }), T0, o)).novelty.arguments).toEqual([]);
  });
});

describe('collectSignals: session context', () => {
  it('notices an address or client change mid-session', async () => {
    const store = new MemoryStateStore();
    await collectSignals(store, request(), T0, OPTS);
    expect((await collectSignals(store, request(), T0, OPTS)).context).toEqual({ addressChanged: false, clientChanged: false });
    expect((await collectSignals(store, request({ remoteAddress: '203.0.113.9' }), T0, OPTS)).context.addressChanged).toBe(true);
    expect((await collectSignals(store, request({ clientInfo: { name: 'curl', version: '8' } }), T0, OPTS)).context.clientChanged).toBe(true);
    expect((await collectSignals(store, request({ sessionId: 's2', remoteAddress: '203.0.113.9' }), T0, OPTS)).context.addressChanged).toBe(false);
  });
});

describe('collectSignals: state', () => {
  it('stays bounded: a flood of principals cannot grow the store past its limit', async () => {
    const store = new MemoryStateStore({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) await collectSignals(store, request({ principal: principal({ user: `u${i}` }), sessionId: `s${i}` }), T0, OPTS);
    // Each kind of entry has its own LRU of that size (CHURN_PREFIXES), the rest share one.
    for (const prefix of CHURN_PREFIXES) expect((await store.keys(prefix)).length).toBeLessThanOrEqual(100);
    const shared = (await store.keys('')).filter((k) => !CHURN_PREFIXES.some((p) => k.startsWith(p)));
    expect(shared.length).toBeLessThanOrEqual(100);
    expect((await store.keys('sig:sess:')).length).toBe(100);
  });
  it('reports an unhealthy store', async () => {
    const inner = new MemoryStateStore();
    const sick: StateStore = Object.assign(Object.create(inner) as StateStore, { healthy: () => false });
    expect((await collectSignals(sick, request(), T0, OPTS)).storeHealthy).toBe(false);
  });
  it('store faults propagate so the guard can block', async () => {
    const broken = new MemoryStateStore();
    // Window counters go through addToWindows (one operation per principal's group).
    broken.addToWindows = () => Promise.reject(new Error('down'));
    await expect(collectSignals(broken, request(), T0, OPTS)).rejects.toThrow('down');
  });
});
