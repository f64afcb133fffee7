/**
 * Reads values out of untrusted argument objects as data: own properties only (Object.hasOwn),
 * so `__proto__`, `constructor` and `prototype` are ordinary keys and prototypes are never
 * consulted. Work is bounded: path depth is capped by the schema (16), `*` and `**` expand at
 * most MAX_ITEMS values in total, `**` descends at most MAX_DEPTH levels. When a bound cuts the
 * search short the result says so (`truncated`), so a caller can fail safe instead of judging
 * on a partial view (a key hidden at item 1001 or at depth 40 must not slip past a block rule).
 */
export const MAX_ITEMS = 1000;
/** Longest string a regex, glob or path test examines. */
export const MAX_STRING = 4096;
/** How deep `**` descends into nested arguments. */
export const MAX_DEPTH = 32;

export type PathSegments = readonly string[];

/** Values found at a path, and whether a bound stopped the search before it saw everything. */
export interface Found {
  readonly values: unknown[];
  truncated: boolean;
}

/** Splits a validated dot path into segments once, at load time. */
export function compilePath(path: string): PathSegments {
  return path.split('.');
}

/** True when a compiled path can yield several values (`*` or `**`). */
export function hasWildcard(segments: PathSegments): boolean {
  return segments.includes('*') || segments.includes('**');
}

function push(found: Found, v: unknown): void {
  if (found.values.length >= MAX_ITEMS) found.truncated = true;
  else found.values.push(v);
}

/**
 * `**` (last segment only): every scalar (string, number, boolean, null) at or below `value`, in
 * objects' own properties and array items. Containers themselves are not values, so a test like
 * `regex` sees every string the agent sent, wherever it is nested.
 */
function leaves(value: unknown, depth: number, found: Found): void {
  if (found.truncated) return;
  if (value === null || typeof value !== 'object') {
    push(found, value);
    return;
  }
  if (depth >= MAX_DEPTH) {
    found.truncated = true;
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      leaves(item, depth + 1, found);
      if (found.truncated) return;
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (Object.hasOwn(record, key)) leaves(record[key], depth + 1, found);
    if (found.truncated) return;
  }
}

function step(value: unknown, segment: string, found: Found): void {
  if (segment === '**') {
    leaves(value, 0, found);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (segment === '*') {
      for (let i = 0; i < value.length && !found.truncated; i++) push(found, value[i]);
      return;
    }
    if (/^\d{1,6}$/.test(segment)) {
      const index = Number(segment);
      if (index < value.length) push(found, value[index]);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  if (segment === '*') {
    for (const key in record) {
      if (found.truncated) break;
      if (Object.hasOwn(record, key)) push(found, record[key]);
    }
    return;
  }
  if (Object.hasOwn(record, segment)) push(found, record[segment]);
}

/** All values found at `segments` under `root`, and whether a bound cut the search short. */
export function findValues(root: unknown, segments: PathSegments): Found {
  let current: Found = { values: [root], truncated: false };
  for (const segment of segments) {
    const next: Found = { values: [], truncated: false };
    for (const value of current.values) {
      step(value, segment, next);
      if (next.truncated) break;
    }
    next.truncated ||= current.truncated;
    if (next.values.length === 0 && !next.truncated) return next;
    current = next;
  }
  return current;
}

/** All values found at `segments` under `root` (empty when absent; at most MAX_ITEMS). */
export function valuesAt(root: unknown, segments: PathSegments): unknown[] {
  return findValues(root, segments).values;
}

/** The single value at a path without wildcards, or undefined. */
export function valueAt(root: unknown, segments: PathSegments): unknown {
  const values = valuesAt(root, segments);
  return values.length > 0 ? values[0] : undefined;
}

/** Marks "no value at this path" (distinct from a value that is `undefined`). */
export const MISSING: unique symbol = Symbol('missing');

/** Fast path for a path without `*`: one value or MISSING, same own-property rules, no allocation. */
export function singleValueAt(root: unknown, segments: PathSegments): unknown {
  let v: unknown = root;
  for (const segment of segments) {
    if (v === null || typeof v !== 'object') return MISSING;
    if (Array.isArray(v)) {
      if (!/^\d{1,6}$/.test(segment)) return MISSING;
      const index = Number(segment);
      if (index >= v.length) return MISSING;
      v = v[index];
    } else {
      if (!Object.hasOwn(v, segment)) return MISSING;
      v = (v as Record<string, unknown>)[segment];
    }
  }
  return v;
}
