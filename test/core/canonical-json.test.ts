import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../src/core/canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}',
    );
  });

  it('gives equal digests for key-order variants and different ones for different values', () => {
    expect(digestOf({ a: 1, b: 2 })).toBe(digestOf({ b: 2, a: 1 }));
    expect(digestOf({ a: 1 })).not.toBe(digestOf({ a: 2 }));
  });

  it('treats __proto__ as a plain key', () => {
    const args = JSON.parse('{"__proto__":{"admin":true},"x":1}') as Record<string, unknown>;
    expect(canonicalJson(args)).toBe('{"__proto__":{"admin":true},"x":1}');
  });

  it('rejects non-finite numbers', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });
});
