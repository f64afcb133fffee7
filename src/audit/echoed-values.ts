import { MAX_DEPTH, REDACTED } from './redact-rules.js';

/**
 * Upstream error messages are free text, and servers like to quote what they were given
 * ("card 4111 1111 1111 1111 declined", "password 'hunter2' is too short"). Key-path redaction
 * hid those values in the call's `call.received` record; written verbatim in `call.result`, the
 * error would show them anyway. These two functions find the values a redaction hid and mask
 * their echoes in a message: literal, JSON-escaped or percent-encoded.
 */

/**
 * Shorter values are not searched for: a two-character value would mask every occurrence of
 * two common letters and leave the message unreadable. Three keeps a card's CVV.
 */
export const MIN_ECHO_LENGTH = 3;
/** At most this many values are searched for (the longest first), so the work stays bounded. */
export const MAX_ECHO_VALUES = 64;
/** Longest text searched for echoes; a longer one that might hold some is hidden whole (see maskEchoes). */
export const MAX_MASKED_TEXT_CHARS = 64 * 1024;

/**
 * The scalar values of `original` that the redactor replaced whole with `[REDACTED]` in
 * `redacted` (a redacted object or array gives all of its leaves), longest first. Values a
 * pattern changed only in part are not listed: the same patterns are applied to the message.
 */
export function hiddenValues(original: unknown, redacted: unknown): string[] {
  const found = new Set<string>();
  collectHidden(original, redacted, 0, found);
  return [...found].sort((a, b) => b.length - a.length).slice(0, MAX_ECHO_VALUES);
}

function collectHidden(original: unknown, redacted: unknown, depth: number, into: Set<string>): void {
  if (depth > MAX_DEPTH) return;
  if (redacted === REDACTED && original !== REDACTED) {
    collectLeaves(original, depth, into);
    return;
  }
  if (original === null || typeof original !== 'object' || redacted === null || typeof redacted !== 'object') return;
  if (Array.isArray(original)) {
    if (!Array.isArray(redacted)) return;
    for (let i = 0; i < original.length && i < redacted.length; i++) collectHidden(original[i], redacted[i], depth + 1, into);
    return;
  }
  const inner = redacted as Record<string, unknown>;
  for (const key of Object.keys(original)) {
    if (Object.hasOwn(inner, key)) collectHidden((original as Record<string, unknown>)[key], inner[key], depth + 1, into);
  }
}

function collectLeaves(value: unknown, depth: number, into: Set<string>): void {
  if (depth > MAX_DEPTH || into.size >= MAX_ECHO_VALUES * 4) return;
  if (typeof value === 'string' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))) {
    const text = String(value);
    if (text.length >= MIN_ECHO_LENGTH) into.add(text);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const v of Array.isArray(value) ? value : Object.values(value)) collectLeaves(v, depth + 1, into);
}

/**
 * `text` with every occurrence of a hidden value replaced by `[REDACTED]`: as written, and in the
 * two spellings servers quote what they were sent in (echoedSpellings). Values are masked longest
 * first, so a value that contains another is masked whole. Linear in the text per spelling
 * (split/join, no regex built from data).
 */
export function maskEchoes(text: string, hidden: readonly string[]): string {
  // A search for `aaa…b` in `aaaa…` costs the text's length times the value's: an agent choosing
  // the values and an upstream the message could hold the event loop for seconds. Past this
  // length the message is not searched; it is hidden whole (over-redaction fails safe).
  if (hidden.length > 0 && text.length > MAX_MASKED_TEXT_CHARS) return `${REDACTED} (an error message of ${text.length} characters, too long to search for hidden arguments)`;
  let out = text;
  for (const value of hidden) {
    for (const spelling of echoedSpellings(value)) if (out.includes(spelling)) out = out.split(spelling).join(REDACTED);
  }
  return out;
}

/**
 * How a server may quote a value it was sent: inside a JSON string (its arguments serialised,
 * "invalid params: {\"password\":\"…\"}", where a quote, backslash or control character is
 * escaped), percent-encoded (a URL it built from them), form-encoded (a query string built with
 * URLSearchParams, the usual way: a space is `+`, and `!'()~` are escaped too), and as written.
 * The escaped spellings come first: each is at least as long as the value, and masked after it
 * would no longer be found.
 */
function echoedSpellings(value: string): string[] {
  const spellings = new Set<string>([JSON.stringify(value).slice(1, -1)]);
  try {
    spellings.add(encodeURIComponent(value));
  } catch {
    // A lone surrogate has no UTF-8, so no percent-encoding: nothing to search for.
  }
  // URLSearchParams writes a lone surrogate as U+FFFD (it never throws): then that is what it echoes.
  spellings.add(new URLSearchParams([['', value]]).toString().slice(1));
  spellings.add(value);
  return [...spellings];
}
