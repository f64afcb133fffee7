import { AMBIGUOUS_NUMBER, numberReading } from './number-reading.js';
import { MAX_ITEMS } from './safe-access.js';

/**
 * How one argument value compares with a policy literal (`eq`, `in`, `contains`) and what text
 * the string tests read in it. The tool, not warden, decides what a value means, so where its
 * reading may differ from the comparison's the answer is `UNJUDGED` (the quantifier fails safe:
 * block / approve / throttle conditions hold, `allow` conditions fail).
 */

/** A test's answer for one value; `UNJUDGED` when the value is beyond what is checked (too long). */
export const UNJUDGED = undefined;
export type Verdict = boolean | typeof UNJUDGED;

/** Arrays inside arrays are looked into this deep; deeper counts as a search cut short. */
export const MAX_NESTING = 8;

/**
 * Equality of one value with a policy literal. A number literal also matches a string spelling
 * that number (`"50000"` is 50000, so it cannot slip under a rule); a string a number parser
 * may read another way is not judged (number-reading.ts). The other way round, a string literal
 * matches the number an agent sends instead (`1001` for `"1001"`: a tool that takes the id as
 * text reads the number as that text), and a number only numerically equal to it (`7` for
 * `"007"`, `5` for `"5.0"`) is not judged: whether the tool reads it as that string is unknown.
 * A boolean literal is compared with booleans only; any other value is not judged.
 */
export function equals(value: unknown, expected: unknown, nocase: boolean): Verdict {
  if (value === expected) return true;
  if (typeof expected === 'number') {
    const n = numberReading(value);
    return n === AMBIGUOUS_NUMBER ? UNJUDGED : n === expected;
  }
  // A flag sent as "true", "yes" or 1 is true to a Python tool (pydantic), and any non-empty
  // string, "false" included, to a JavaScript `if (args.force)`: only a boolean is certain.
  if (typeof expected === 'boolean') return typeof value === 'boolean' ? false : UNJUDGED;
  if (typeof expected === 'string' && typeof value === 'number') {
    const text = String(value);
    if ((nocase ? text.toLowerCase() : text) === expected) return true;
    return numberReading(expected) === value ? UNJUDGED : false;
  }
  // `expected` was lower-cased at load time when nocase is set.
  return nocase && typeof expected === 'string' && typeof value === 'string' && value.toLowerCase() === expected;
}

/** Equal to any of `set` (see equals): true when one is, not judged when one cannot be told. */
export function equalsAny(value: unknown, set: readonly unknown[], nocase: boolean): Verdict {
  let verdict: Verdict = false;
  for (const e of set) {
    const one = equals(value, e, nocase);
    if (one === true) return true;
    if (one === UNJUDGED) verdict = UNJUDGED;
  }
  return verdict;
}

/**
 * An array contains an equal item; a string contains the substring. `loose` (restricting rules,
 * where the agent picks the shape): an array also contains `needle` when any item, at any depth,
 * contains it, so wrapping `"rm -rf /"` as `["rm -rf /"]` does not hide it. An array not found
 * to contain it within the bounds (1000 items, MAX_NESTING deep) is not judged: past them it
 * may or may not, and a negated rule must not read either answer as certain.
 */
export function contains(value: unknown, needle: unknown, nocase: boolean, loose: boolean, depth = 0): Verdict {
  if (Array.isArray(value)) {
    const n = Math.min(value.length, MAX_ITEMS);
    let cut = value.length > MAX_ITEMS || (loose && depth >= MAX_NESTING);
    for (let i = 0; i < n; i++) {
      const same = equals(value[i], needle, nocase);
      if (same === true) return true;
      if (same === UNJUDGED) cut = true;
      if (!loose || depth >= MAX_NESTING) continue;
      const inner = contains(value[i], needle, nocase, true, depth + 1);
      if (inner === true) return true;
      if (inner === UNJUDGED) cut = true;
    }
    return cut ? UNJUDGED : false;
  }
  const text = textOf(value);
  if (text === undefined || typeof needle !== 'string') return false;
  return (nocase ? text.toLowerCase() : text).includes(needle);
}

/**
 * The text a string test (regex, glob, a substring `contains`) reads in a value: a string itself,
 * a finite number as it spells (`1001` is `"1001"`: a tool taking an id as text reads it so, and a
 * block rule on `^100[12]$` must not be sidestepped by dropping the quotes). Anything else
 * has no text.
 */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}
