import { describe, expect, it } from 'vitest';
import { LineAssembler } from '../../src/proxy/block-joiner.js';

describe('the unfinished line of a stdio upstream', () => {
  it('cannot be made to hold one string per read (a child writing a byte at a time)', () => {
    const line = new LineAssembler();
    const reads = 1_000_000;
    for (let i = 0; i < reads; i++) line.add(String.fromCharCode(97 + (i % 26)));
    expect(line.length).toBe(reads);
    // Joined into blocks as they arrive: about one string per 256 one-byte reads, not per read.
    expect(line.parts).toBeLessThan(reads / 200);
    const whole = line.take('!');
    expect(whole.length).toBe(reads + 1);
    expect(whole.startsWith('abcdefghijklmnopqrstuvwxyzabc')).toBe(true);
    expect(whole.endsWith('!')).toBe(true);
    expect(line.length).toBe(0);
    expect(line.parts).toBe(0);
  });

  it('keeps large reads as they are and joins them in order', () => {
    const line = new LineAssembler();
    const big = 'x'.repeat(70_000);
    line.add('{"a":"');
    line.add(big);
    line.add('y');
    expect(line.take('"}')).toBe(`{"a":"${big}y"}`);
  });
});
