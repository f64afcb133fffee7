import { MAX_STRING } from './safe-access.js';

/**
 * How numeric conditions (`gt`, `gte`, `lt`, `lte`, and `eq`/`in` with a number) read a value.
 * The tool, not warden, decides what an argument means, and number parsers disagree: JavaScript's
 * `Number()` reads `"0x1000000"` as 16777216, `"Infinity"`, `""` as 0 and a zero-padded string of
 * any length; `parseFloat` reads `"50000 EUR"` as 50000; Python's `float()` and `int()` read
 * full-width digits (`"５００００"`) and `"1_000"`. Read as "not a number", such a string never
 * met `gt: 10000`, so a block or approve rule on an amount was sidestepped by spelling the
 * amount another way. A string that some parser may read as a number, but that is not a plain
 * decimal, is therefore not judged (block / approve / throttle conditions hold, `allow`
 * conditions fail), like every other ambiguous spelling.
 */

/** A plain decimal number: optional minus, digits, optional fraction and exponent. */
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
/** Any decimal digit, in any script (Python's `int()` reads them all). */
const ANY_DIGIT = /\p{Nd}/u;

/** The value is certainly not a number to any parser (`"eleven"`, `true`, an object). */
export const NOT_A_NUMBER = 'not-a-number';
/** Parsers may disagree on what number the value is, or whether it is one. */
export const AMBIGUOUS_NUMBER = 'ambiguous';

export type NumberReading = number | typeof NOT_A_NUMBER | typeof AMBIGUOUS_NUMBER;

/**
 * The number a value certainly stands for. A JSON number is itself, infinities included
 * (`1e999` parses to Infinity, which is over every limit); a string is its number when it is a
 * plain decimal (surrounding whitespace allowed, any length: `"0…050000"` is 50000).
 */
export function numberReading(v: unknown): NumberReading {
  if (typeof v === 'number') return Number.isNaN(v) ? NOT_A_NUMBER : v;
  if (typeof v !== 'string') return NOT_A_NUMBER;
  // Too long to read whole: a number may still hide in it.
  if (v.length > MAX_STRING) return ANY_DIGIT.test(v) ? AMBIGUOUS_NUMBER : NOT_A_NUMBER;
  const t = v.trim();
  if (PLAIN_DECIMAL.test(t)) return Number(t);
  // Hex, binary, octal, `Infinity`, `+5`, `.5`, an empty string: JavaScript reads a number.
  if (!Number.isNaN(Number(v))) return AMBIGUOUS_NUMBER;
  // A number prefix (`50000 EUR`), separators (`1_000`, `50,000`), digits of another script.
  return ANY_DIGIT.test(v) ? AMBIGUOUS_NUMBER : NOT_A_NUMBER;
}
