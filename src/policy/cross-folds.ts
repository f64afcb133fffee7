import { readStrings } from './string-reading.js';

/**
 * The characters a case fold maps onto ASCII letters: KELVIN SIGN lower-cases to `k`, LATIN
 * CAPITAL LETTER I WITH DOT ABOVE to `i` + U+0307, and Unicode case folding (a regex with both
 * `i` and `u`) takes LONG S to `s`. A string holding one is a different string to the tool (another
 * mailbox, another account) that `nocase` would still read as the ASCII one, so an allowlist
 * written in ASCII would pass it and a negated one would not block it.
 */
const CROSS_FOLD = /[\u0130\u017F\u212A]/;
const CROSS_FOLD_ALL = /[\u0130\u017F\u212A]/g;

/**
 * `v` with every cross-fold character replaced by U+FFFD (which folds to nothing), arrays looked
 * into; `v` itself when it holds none, so the caller knows there is no second reading.
 */
export function withoutCrossFolds(v: unknown): unknown {
  return readStrings(v, (s) => (CROSS_FOLD.test(s) ? s.replace(CROSS_FOLD_ALL, '\uFFFD') : s));
}
