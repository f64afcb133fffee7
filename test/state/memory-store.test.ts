import { describe, expect, it } from 'vitest';
import { CHURN_PREFIXES, MemoryStateStore } from '../../src/state/memory-store.js';

describe('MemoryStateStore', () => {
  it('sums a sliding window and forgets what fell out of it', async () => {
    const store = new MemoryStateStore();
    const t0 = 1_200_000; // aligned to the 3 s sub-bucket so the edges are exact
    expect(await store.addToWindow('rate:a', 1, 60_000, t0)).toBe(1);
    expect(await store.addToWindow('rate:a', 2, 60_000, t0 + 30_000)).toBe(3);
    expect(await store.sumWindow('rate:a', 60_000, t0 + 59_000)).toBe(3);
    expect(await store.sumWindow('rate:a', 60_000, t0 + 61_000 + 3_000)).toBe(2);
    expect(await store.sumWindow('rate:a', 60_000, t0 + 200_000)).toBe(0);
  });

  it('sets once only with setIfAbsent (replay guard)', async () => {
    const store = new MemoryStateStore();
    expect(await store.setIfAbsent('jti:1', true)).toBe(true);
    expect(await store.setIfAbsent('jti:1', true)).toBe(false);
  });

  it('stays bounded when flooded with keys', async () => {
    const store = new MemoryStateStore({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) await store.set(`k:${i}`, i);
    expect((await store.keys('k:')).length).toBe(100);
    expect(await store.get('k:999')).toBe(999);
    expect(await store.get('k:0')).toBeUndefined();
  });
});

describe('MemoryStateStore kinds of entries', () => {
  it('keeps each churn kind apart: a flood of one kind evicts none of the shared entries', async () => {
    const store = new MemoryStateStore({ maxEntries: 10 });
    await store.set('grant:g1', 'kept');
    for (const prefix of CHURN_PREFIXES) for (let i = 0; i < 100; i++) await store.set(`${prefix}${i}`, i);
    expect(await store.get('grant:g1')).toBe('kept');
    for (const prefix of CHURN_PREFIXES) {
      expect((await store.keys(prefix)).length).toBe(10);
      expect(await store.setIfAbsent(`${prefix}99`, 0)).toBe(false);
      expect(await store.delete(`${prefix}99`)).toBe(true);
      expect(await store.get(`${prefix}99`)).toBeUndefined();
    }
  });

  it('names the prefixes the signals and the SET receiver really use', async () => {
    const { keys } = await import('../../src/signals/state-keys.js');
    const { principal } = await import('../helpers/policy-helpers.js');
    const pk = keys.pair(principal());
    const minted = [keys.resourceSeen(pk, 'u', 't', 'v'), keys.toolSeen(pk, 'u', 't'), keys.valueSeen('uk', 'u', 'payee', 'v'), keys.session('s1')];
    for (const key of minted) expect(CHURN_PREFIXES.some((p) => key.startsWith(p))).toBe(true);
    const source = (await import('node:fs')).readFileSync(new URL('../../src/events/set-receiver.ts', import.meta.url), 'utf8');
    expect(source).toContain('`events:jti:');
    const approvals = (await import('node:fs')).readFileSync(new URL('../../src/approval/approval-manager.ts', import.meta.url), 'utf8');
    for (const key of approvals.match(/'approval:[a-z]+:'/g) ?? []) expect(CHURN_PREFIXES.some((p) => key.slice(1).startsWith(p))).toBe(true);
    expect(approvals).toContain("'approval:done:'");
  });
});

describe('MemoryStateStore keys() and the churn kinds', () => {
  it('finds keys of every kind, and a grant lookup does not walk the agent-filled kinds', async () => {
    const store = new MemoryStateStore({ maxEntries: 1000 });
    await store.set('grant:g1', 1);
    for (const prefix of CHURN_PREFIXES) await store.set(`${prefix}x`, 1);
    expect((await store.keys('')).length).toBe(1 + CHURN_PREFIXES.length);
    expect(await store.keys('sig:')).toEqual(expect.arrayContaining(['sig:vol:seen:x', 'sig:nov:x', 'sig:sess:x']));
    expect(await store.keys('sig:vol:seen:')).toEqual(['sig:vol:seen:x']);
    // Walking a kind's LRU at all would be seen through its iterator: make every one throw.
    const kinds = (store as unknown as { lrus: ({ keys(): never } | undefined)[] }).lrus.slice(0, CHURN_PREFIXES.length);
    for (const lru of kinds) if (lru) lru.keys = () => { throw new Error('walked'); };
    expect(await store.keys('grant:')).toEqual(['grant:g1']);
  });
});

describe('MemoryStateStore room allocated when needed', () => {
  const lrus = (store: MemoryStateStore): unknown[] => (store as unknown as { lrus: unknown[] }).lrus.filter((l) => l !== undefined);

  it('allocates no kind for reads, deletes and key walks, only for the first write of that kind', async () => {
    const store = new MemoryStateStore({ maxEntries: 1000 });
    expect(await store.get('sig:nov:x')).toBeUndefined();
    expect(await store.get('grant:g1')).toBeUndefined();
    expect(await store.delete('approval:done:x')).toBe(false);
    expect(await store.keys('')).toEqual([]);
    expect(lrus(store)).toHaveLength(0);
    await store.set('sig:nov:x', 1);
    expect(lrus(store)).toHaveLength(1);
    expect(await store.get('sig:nov:x')).toBe(1);
  });

  it('allocates the rest a kind at a time, letting the event loop turn in between, and keeps what calls wrote meanwhile', async () => {
    const store = new MemoryStateStore({ maxEntries: 1000 });
    await store.set('sig:sess:s1', 'kept');
    let done = false;
    let turns = 0;
    const tick = (): void => {
      if (done) return;
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
    const allocated = store.allocateWhenIdle();
    await store.set('grant:g1', 'also kept');
    await allocated;
    done = true;
    const perCall = CHURN_PREFIXES.filter((p) => p.startsWith('sig:')).length + 1;
    // The signals' kinds and the shared one; SET ids and approval markers wait for first use.
    expect(lrus(store)).toHaveLength(perCall);
    expect(await store.keys('events:jti:')).toEqual([]);
    // One turn per kind at least: allocating all of them in one go would block other work.
    expect(turns).toBeGreaterThanOrEqual(perCall);
    expect(await store.get('sig:sess:s1')).toBe('kept');
    expect(await store.get('grant:g1')).toBe('also kept');
  });
});
