import { MAX_ITEMS } from './safe-access.js';

/**
 * The characters a case fold maps onto ASCII letters: KELVIN SIGN lower-cases to `k`, LATIN
 * CAPITAL LETTER I WITH DOT ABOVE to `i` + U+0307, and Unicode case folding (a regex with both
 * `i` and `u`) takes LONG S to `s`. A string holding one is a different string to the tool (another
 * mailbox, another account) that `nocase` would still read as the ASCII one, so an allowlist
 * written in ASCII would pass it and a negated one would not block it.
 */
const CROSS_FOLD = /[\u0130\u017F\u212A]/;
const CROSS_FOLD_ALL = /[\u0130\u017F\u212A]/g;

/** Arrays inside arrays are looked into this deep (the conditions' own limit). */
const MAX_NESTING = 8;

/**
 * `v` with every cross-fold character replaced by U+FFFD (which folds to nothing), arrays looked
 * into; `v` itself when it holds none, so the caller knows there is no second reading.
 */
export function withoutCrossFolds(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return CROSS_FOLD.test(v) ? v.replace(CROSS_FOLD_ALL, '\uFFFD') : v;
  if (!Array.isArray(v) || depth > MAX_NESTING) return v;
  let copy: unknown[] | undefined;
  const n = Math.min(v.length, MAX_ITEMS);
  for (let i = 0; i < n; i++) {
    const item = withoutCrossFolds(v[i], depth + 1);
    if (item !== v[i]) (copy ??= v.slice())[i] = item;
  }
  return copy ?? v;
}
