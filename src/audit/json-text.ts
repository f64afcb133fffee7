import { escapeUnsafeJson } from './escape-unsafe.js';

/**
 * Every character that makes `escapeUnsafeJson(JSON.stringify(s))` differ from `"${s}"`: what
 * JSON.stringify escapes (`"`, `\`, C0 controls, lone surrogates: all surrogates here, to stay
 * conservative) plus what escapeUnsafeJson escapes (see escape-unsafe.ts, same ranges).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufeff]/;

/**
 * JSON text of a string, with unsafe characters escaped: exactly `escapeUnsafeJson(JSON.stringify(s))`.
 * Most audit strings (ids, digests, tool names) need no escape at all, and one scan plus a
 * concatenation costs a third of JSON.stringify on a string (measured on Node 20).
 */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escapeUnsafeJson(JSON.stringify(s)) : `"${s}"`;
}

/**
 * JSON text of a number as the audit writes it: non-finite numbers become `null` (jsonScalar),
 * finite ones their ECMAScript string form, which is what JSON.stringify and RFC 8785 produce
 * (`-0` → `0`, `1e21` → `1e+21`). String() skips JSON.stringify's generic dispatch.
 */
export function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * Makes V8 store `s` as one flat string and returns it. A concatenation is a tree of pieces that
 * is copied out each time it is hashed or written; texts that are reused (cached keys and
 * values) or both hashed and sliced are flattened once instead.
 */
export function flat(s: string): string {
  s.charCodeAt(0); // reading a character flattens the string in place
  return s;
}
