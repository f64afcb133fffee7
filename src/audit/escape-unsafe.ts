/**
 * Characters that JSON.stringify leaves raw but that must never reach a terminal or a reviewer
 * unescaped: C1 controls and DEL, zero-width and bidi overrides (Trojan Source), line/paragraph
 * separators and the BOM. C0 controls (U+0000–U+001F) are already escaped by JSON.stringify.
 */
const UNSAFE = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const UNSAFE_TEST = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

function toEscape(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Escapes unsafe characters in a JSON text as `\uXXXX`. Safe on a whole JSON document: these
 * characters can only occur inside strings, and the escape parses back to the same string.
 * The hash chain covers the escaped text, which is what is written.
 */
export function escapeUnsafeJson(json: string): string {
  // The test-first path keeps the common (clean) case to one scan without allocation.
  return UNSAFE_TEST.test(json) ? json.replace(UNSAFE, toEscape) : json;
}
