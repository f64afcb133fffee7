import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../src/state/memory-store.js';

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
