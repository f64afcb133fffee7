import { describe, expect, it } from 'vitest';
import { keyOrderCache, MAX_CACHED_CHARS } from '../../src/audit/key-order.js';
import { jsonString } from '../../src/audit/json-text.js';

const quote = (k: string): string => `${jsonString(k)}:`;

describe('keyOrderCache', () => {
  it('gives the canonical order and key texts, the same from the cache as fresh', () => {
    const lookup = keyOrderCache(quote, undefined);
    const first = lookup(['b', 'a', 'c']);
    expect(first.sorted).toEqual(['a', 'b', 'c']);
    expect(first.quoted).toEqual(['"a":', '"b":', '"c":']);
    expect(lookup(['b', 'a', 'c'])).toBe(first);
  });

  it('arguments with thousands of escaped key sets cannot grow the cache past its budget (memory held by every session)', () => {
    const lookup = keyOrderCache(quote, undefined);
    // Keys of control characters are escaped six-fold: the worst case per cached character.
    const ctl = (i: number, j: number): string => String.fromCharCode(1 + ((i + j) % 30)).repeat(56) + String(i * 32 + j);
    let peak = 0;
    for (let i = 0; i < 4_000; i++) {
      const keys = Array.from({ length: 32 }, (_, j) => ctl(i, j));
      const order = lookup(keys);
      expect(order.sorted).toEqual([...keys].sort());
      peak = Math.max(peak, lookup.cachedChars());
    }
    // The cache is used (it holds megabytes at its peak), yet never more than its 4 MiB budget;
    // without the budget these key sets would hold about 20 M characters.
    expect(peak).toBeGreaterThan(1024 * 1024);
    expect(peak).toBeLessThanOrEqual(MAX_CACHED_CHARS);
    expect(MAX_CACHED_CHARS).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});
