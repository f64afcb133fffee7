import { describe, expect, it } from 'vitest';
import { escapeUnsafeJson } from '../../src/audit/escape-unsafe.js';
import { flat, jsonNumber, jsonString } from '../../src/audit/json-text.js';
import { jsonScalar } from '../../src/audit/redactor.js';
import { rng } from './audit-test-helpers.js';

describe('json text shortcuts', () => {
  it('jsonString is escapeUnsafeJson(JSON.stringify(s)) for every UTF-16 code unit, alone and inside text', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [ch, `ab${ch}cd`, `${ch}${ch}`]) {
        if (jsonString(s) !== escapeUnsafeJson(JSON.stringify(s))) expect(jsonString(s), `U+${c.toString(16)}`).toBe(escapeUnsafeJson(JSON.stringify(s)));
      }
    }
    expect(jsonString('pair 😀')).toBe('"pair 😀"');
    expect(jsonString('\u202e')).toBe('"\\u202e"');
  });

  it('jsonNumber is JSON.stringify(jsonScalar(n)) for edge and random numbers', () => {
    const rand = rng(7);
    const buf = new DataView(new ArrayBuffer(8));
    const numbers = [0, -0, 1e21, 1e-7, 123e-20, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 1, 0.1 + 0.2];
    for (let i = 0; i < 10_000; i++) {
      buf.setUint32(0, Math.floor(rand() * 2 ** 32));
      buf.setUint32(4, Math.floor(rand() * 2 ** 32));
      numbers.push(buf.getFloat64(0), Math.round(rand() * 1e6) - 5e5);
    }
    for (const n of numbers) expect(jsonNumber(n)).toBe(JSON.stringify(jsonScalar(n)));
  });

  it('flat returns the same string', () => {
    const s = `${'a'.repeat(20)}${String(Math.random())}`;
    expect(flat(s)).toBe(s);
    expect(flat('')).toBe('');
  });
});
