import { MAX_ITEMS } from './safe-access.js';

/** Arrays inside arrays are looked into this deep (the conditions' own limit). */
const MAX_NESTING = 8;

/**
 * Another reading of a value a condition tests: `read` applied to the value if it is a string,
 * or to the strings of an array (arrays in arrays too, within the conditions' bounds). Returns
 * `v` itself when `read` changes nothing, so the caller knows there is no second reading; an
 * array is copied only where it changes.
 */
export function readStrings(v: unknown, read: (s: string) => string, depth = 0): unknown {
  if (typeof v === 'string') return read(v);
  if (!Array.isArray(v) || depth > MAX_NESTING) return v;
  let copy: unknown[] | undefined;
  const n = Math.min(v.length, MAX_ITEMS);
  for (let i = 0; i < n; i++) {
    const item = readStrings(v[i], read, depth + 1);
    if (item !== v[i]) (copy ??= v.slice())[i] = item;
  }
  return copy ?? v;
}
