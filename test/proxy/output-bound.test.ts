import { describe, expect, it } from 'vitest';
import { OutputBound, type OutputOverflow } from '../../src/proxy/output-bound.js';

function bound(maxBytes: number) {
  const overflows: OutputOverflow[] = [];
  return { b: new OutputBound(maxBytes, (o) => void overflows.push(o)), overflows };
}

describe('OutputBound', () => {
  it('ends a peer that never reads small messages once its backlog passes the bound, exactly once', () => {
    const { b, overflows } = bound(1000);
    let buffered = 0;
    const results: boolean[] = [];
    for (let i = 0; i < 20; i++) results.push(b.afterWrite(100, (buffered += 100)));
    // 1000 bound + 100 (the largest single write) = 1100: the 12th write (1200 buffered) passes it.
    expect(results.indexOf(true)).toBe(11);
    expect(overflows).toEqual([{ bufferedBytes: 1200, limitBytes: 1000 }]);
    expect(b.overflowed).toBe(true);
    expect(results.slice(11).every(Boolean)).toBe(true);
  });

  it('lets a single message larger than the bound through, and the messages right behind it', () => {
    const { b, overflows } = bound(1000);
    expect(b.afterWrite(50_000, 50_000)).toBe(false);
    // The reader is still busy with the big one while small ones queue behind it.
    expect(b.afterWrite(100, 49_000)).toBe(false);
    expect(b.afterWrite(100, 49_100)).toBe(false);
    expect(overflows).toEqual([]);
  });

  it('forgets a large message once the peer has read everything before a write', () => {
    const { b, overflows } = bound(1000);
    b.afterWrite(50_000, 50_000);
    // Drained: only this write is waiting, so the big message no longer widens the bound.
    expect(b.afterWrite(100, 100)).toBe(false);
    expect(b.afterWrite(100, 1300)).toBe(true);
    expect(overflows).toHaveLength(1);
  });

  it('re-reads an overestimated backlog before ending the peer', () => {
    const { b, overflows } = bound(1000);
    expect(b.afterWrite(100, 5000, () => 400)).toBe(false);
    expect(overflows).toEqual([]);
    expect(b.afterWrite(100, 5000, () => 4000)).toBe(true);
    expect(overflows).toEqual([{ bufferedBytes: 4000, limitBytes: 1000 }]);
  });
});
