/**
 * Reads values out of untrusted argument objects as data: own properties only (Object.hasOwn),
 * so `__proto__`, `constructor` and `prototype` are ordinary keys and prototypes are never
 * consulted. Work is bounded: path depth is capped by the schema (16), `*` expands at most
 * MAX_ITEMS values in total.
 */
export const MAX_ITEMS = 1000;
/** Longest string a regex, glob or path test examines. */
export const MAX_STRING = 4096;

export type PathSegments = readonly string[];

/** Splits a validated dot path into segments once, at load time. */
export function compilePath(path: string): PathSegments {
  return path.split('.');
}

function step(value: unknown, segment: string, out: unknown[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (segment === '*') {
      const n = Math.min(value.length, MAX_ITEMS - out.length);
      for (let i = 0; i < n; i++) out.push(value[i]);
      return;
    }
    if (/^\d{1,6}$/.test(segment)) {
      const index = Number(segment);
      if (index < value.length) out.push(value[index]);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  if (segment === '*') {
    for (const key in record) {
      if (out.length >= MAX_ITEMS) break;
      if (Object.hasOwn(record, key)) out.push(record[key]);
    }
    return;
  }
  if (Object.hasOwn(record, segment)) out.push(record[segment]);
}

/** All values found at `segments` under `root` (empty when absent). */
export function valuesAt(root: unknown, segments: PathSegments): unknown[] {
  let current: unknown[] = [root];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      step(value, segment, next);
      if (next.length >= MAX_ITEMS) break;
    }
    if (next.length === 0) return next;
    current = next;
  }
  return current;
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
