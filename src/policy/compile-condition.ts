import picomatch from 'picomatch';
import type { Condition } from './condition-schema.js';
import { globSubject, isWithin, normaliseRoot } from './path-containment.js';
import { compilePath, MAX_ITEMS, MAX_STRING, MISSING, singleValueAt, valuesAt } from './safe-access.js';

/** A precompiled condition: a pure predicate over a root object (arguments or claims). */
export type CompiledCondition = (root: unknown) => boolean;

const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** Numbers, and strings that spell a number, so `"50000"` cannot slip under `gt: 10000`. */
function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.length < 64 && NUMERIC.test(v.trim())) return Number(v.trim());
  return undefined;
}

function equals(value: unknown, expected: unknown): boolean {
  if (value === expected) return true;
  if (typeof expected === 'number') return asNumber(value) === expected;
  return false;
}

function contains(value: unknown, needle: unknown): boolean {
  if (Array.isArray(value)) {
    const n = Math.min(value.length, MAX_ITEMS);
    for (let i = 0; i < n; i++) if (equals(value[i], needle)) return true;
    return false;
  }
  return typeof value === 'string' && typeof needle === 'string' && value.includes(needle);
}

function valueTest(c: Condition): (v: unknown) => boolean {
  if (c.eq !== undefined) return (v) => equals(v, c.eq);
  if (c.in !== undefined) {
    const set = c.in;
    return (v) => set.some((e) => equals(v, e));
  }
  if (c.gt !== undefined) return numeric((n) => n > (c.gt as number));
  if (c.gte !== undefined) return numeric((n) => n >= (c.gte as number));
  if (c.lt !== undefined) return numeric((n) => n < (c.lt as number));
  if (c.lte !== undefined) return numeric((n) => n <= (c.lte as number));
  if (c.regex !== undefined) {
    const re = new RegExp(c.regex, (c.flags ?? '').replace(/[gy]/g, ''));
    return (v) => typeof v === 'string' && re.test(v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v);
  }
  if (c.glob !== undefined) {
    const isMatch = picomatch(c.glob, { dot: true });
    return (v) => typeof v === 'string' && v.length <= MAX_STRING && isMatch(globSubject(v));
  }
  if (c.within !== undefined) {
    const roots = c.within.map(normaliseRoot);
    return (v) => typeof v === 'string' && isWithin(v, roots);
  }
  if (c.contains !== undefined) return (v) => contains(v, c.contains);
  // `exists` is handled by the caller on the number of values found.
  return () => true;
}

function numeric(test: (n: number) => boolean): (v: unknown) => boolean {
  return (v) => {
    const n = asNumber(v);
    return n !== undefined && test(n);
  };
}

function anyItem(items: readonly unknown[], test: (v: unknown) => boolean): boolean {
  const n = Math.min(items.length, MAX_ITEMS);
  for (let i = 0; i < n; i++) if (test(items[i])) return true;
  return false;
}

/** Compiles one validated condition (regexes, globs and roots built here, never per call). */
export function compileCondition(c: Condition): CompiledCondition {
  const segments = compilePath(c.path);
  const negate = c.not === true;
  const wildcard = segments.includes('*');
  if (c.exists !== undefined) {
    const want = c.exists;
    if (!wildcard) return (root) => (singleValueAt(root, segments) !== MISSING) === want !== negate;
    return (root) => (valuesAt(root, segments).length > 0 === want) !== negate;
  }
  const test = valueTest(c);
  // Every operator but `contains` looks inside an array value, so `groups: {in: [a, b]}`
  // means "some group is a or b" (and with `not`, "no group is a or b").
  const intoArrays = c.contains === undefined;
  if (!wildcard) {
    return (root) => {
      const v = singleValueAt(root, segments);
      if (v === MISSING) return negate;
      return (intoArrays && Array.isArray(v) ? anyItem(v, test) : test(v)) !== negate;
    };
  }
  return (root) => {
    const values = valuesAt(root, segments);
    let hit = false;
    for (const v of values) {
      if (intoArrays && Array.isArray(v) ? anyItem(v, test) : test(v)) {
        hit = true;
        break;
      }
    }
    return hit !== negate;
  };
}

/** All conditions must hold; an empty list holds. */
export function compileConditions(list: readonly Condition[] | undefined): CompiledCondition | undefined {
  if (!list || list.length === 0) return undefined;
  const compiled = list.map(compileCondition);
  return (root) => compiled.every((c) => c(root));
}
