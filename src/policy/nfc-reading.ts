import type { Condition } from './condition-schema.js';
import { MAX_STRING } from './safe-access.js';
import { readStrings } from './string-reading.js';

/**
 * Unicode canonical equivalence for the text comparisons (`eq`, `in`, `contains`, `regex`).
 * `Gehälter` can be sent precomposed (NFC, U+00E4) or decomposed (NFD, `a` + U+0308): two
 * strings to a comparison, one name to most tools (the filesystem server and macOS open either as
 * the same file; a payments API may normalise a payee name). Read as written only, a block rule
 * for `Gehälter` is dodged by sending it decomposed. So a non-ASCII value is also read in NFC
 * (and the policy's own literals are kept in NFC); when the two readings disagree the value is
 * not judged (block / approve / throttle conditions hold, `allow` conditions fail), as globs
 * already do for decomposed paths.
 */

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * NFC of the long strings (over MAX_STRING) seen in the current decision. Every text condition
 * reads a value again, and normalising megabytes takes milliseconds each time (about 15 ms for
 * 4 MB): an agent's one long argument under a policy of many text conditions would cost that
 * once per condition. Short strings are cheaper to normalise than to look up. Emptied per
 * decision (resetNfcReadings), so it holds no more than the call's own arguments.
 */
const longReadings = new Map<string, string>();

/** Forgets the long strings of the last decision (called as each decision starts and ends). */
export function resetNfcReadings(): void {
  if (longReadings.size !== 0) longReadings.clear();
}

function nfcOf(s: string): string {
  if (s.length <= MAX_STRING) return NON_ASCII.test(s) ? s.normalize('NFC') : s;
  let nfc = longReadings.get(s);
  if (nfc === undefined) {
    nfc = NON_ASCII.test(s) ? s.normalize('NFC') : s;
    longReadings.set(s, nfc);
  }
  return nfc;
}

/** `v` in NFC, arrays looked into; `v` itself when nothing changes (no second reading then). */
export function asNfc(v: unknown): unknown {
  return readStrings(v, nfcOf);
}

/** Whether the condition compares text, so that canonically equivalent spellings matter. */
export function comparesText(c: Condition): boolean {
  return c.eq !== undefined || c.in !== undefined || c.contains !== undefined || c.regex !== undefined;
}

/** The condition with its string literals (`eq`, `in`, `contains`) in NFC. */
export function withNfcLiterals(c: Condition): Condition {
  const nfc = (x: unknown): unknown => (typeof x === 'string' ? x.normalize('NFC') : x);
  let out: Condition = c;
  if (typeof c.eq === 'string' && nfc(c.eq) !== c.eq) out = { ...out, eq: nfc(c.eq) as string };
  if (Array.isArray(c.in) && c.in.some((e) => nfc(e) !== e)) out = { ...out, in: c.in.map(nfc) as typeof c.in };
  if (typeof c.contains === 'string' && nfc(c.contains) !== c.contains) out = { ...out, contains: nfc(c.contains) as string };
  return out;
}

/**
 * A test that also reads the value in NFC: the same answer both ways is the answer; different
 * answers leave the value unjudged (`unjudged`, the caller's marker).
 */
export function judgedAlsoAsNfc<V>(test: (v: unknown) => V, unjudged: V): (v: unknown) => V {
  return (v) => {
    const verdict = test(v);
    const nfc = asNfc(v);
    if (nfc === v) return verdict;
    return test(nfc) === verdict ? verdict : unjudged;
  };
}
