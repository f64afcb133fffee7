import picomatch from 'picomatch';
import type { Condition } from './condition-schema.js';
import { globSubject, isWindowsDrivePath, isWithin, normaliseRoot } from './path-containment.js';
import { compilePath, findValues, hasWildcard, MAX_ITEMS, MAX_STRING, MISSING, singleValueAt, type PathSegments } from './safe-access.js';

/** A precompiled condition: a pure predicate over a root object (arguments or claims). */
export type CompiledCondition = (root: unknown) => boolean;

const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** Numbers, and strings that spell a number, so `"50000"` cannot slip under `gt: 10000`. */
function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.length < 64 && NUMERIC.test(v.trim())) return Number(v.trim());
  return undefined;
}

function equals(value: unknown, expected: unknown, nocase: boolean): boolean {
  if (value === expected) return true;
  if (typeof expected === 'number') return asNumber(value) === expected;
  // `expected` was lower-cased at load time when nocase is set.
  return nocase && typeof expected === 'string' && typeof value === 'string' && value.toLowerCase() === expected;
}

function contains(value: unknown, needle: unknown, nocase: boolean): boolean {
  if (Array.isArray(value)) {
    const n = Math.min(value.length, MAX_ITEMS);
    for (let i = 0; i < n; i++) if (equals(value[i], needle, nocase)) return true;
    return false;
  }
  if (typeof value !== 'string' || typeof needle !== 'string') return false;
  return (nocase ? value.toLowerCase() : value).includes(needle);
}

const lower = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

function globTest(c: Condition & { glob: string }): (v: unknown) => boolean {
  const nocase = c.nocase === true;
  const exact = picomatch(c.glob, { dot: true, nocase });
  // Windows drive paths are case-insensitive on their own file systems: `C:\USERS\U\.SSH\ID_RSA`
  // is the same file as `c:\users\u\.ssh\id_rsa`, so such a subject always matches ignoring case.
  const folded = nocase ? exact : picomatch(c.glob, { dot: true, nocase: true });
  return (v) => {
    if (typeof v !== 'string' || v.length > MAX_STRING) return false;
    return (isWindowsDrivePath(v) ? folded : exact)(globSubject(v));
  };
}

/** The test one value must pass (before `not`); patterns and roots are built here, once. */
function valueTest(c: Condition): (v: unknown) => boolean {
  const nocase = c.nocase === true;
  if (c.eq !== undefined) {
    const eq = nocase ? lower(c.eq) : c.eq;
    return (v) => equals(v, eq, nocase);
  }
  if (c.in !== undefined) {
    const set = nocase ? c.in.map(lower) : c.in;
    return (v) => set.some((e) => equals(v, e, nocase));
  }
  if (c.gt !== undefined) return numeric((n) => n > (c.gt as number));
  if (c.gte !== undefined) return numeric((n) => n >= (c.gte as number));
  if (c.lt !== undefined) return numeric((n) => n < (c.lt as number));
  if (c.lte !== undefined) return numeric((n) => n <= (c.lte as number));
  if (c.regex !== undefined) {
    let flags = (c.flags ?? '').replace(/[gy]/g, '');
    if (nocase && !flags.includes('i')) flags += 'i';
    const re = new RegExp(c.regex, flags);
    return (v) => typeof v === 'string' && re.test(v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v);
  }
  if (c.glob !== undefined) return globTest(c as Condition & { glob: string });
  if (c.within !== undefined) {
    const roots = c.within.map((r) => normaliseRoot(r, nocase));
    return (v) => typeof v === 'string' && isWithin(v, roots, nocase);
  }
  if (c.contains !== undefined) {
    const needle = nocase ? lower(c.contains) : c.contains;
    return (v) => contains(v, needle, nocase);
  }
  // `exists` is handled by the caller on the number of values found.
  return () => true;
}

function numeric(test: (n: number) => boolean): (v: unknown) => boolean {
  return (v) => {
    const n = asNumber(v);
    return n !== undefined && test(n);
  };
}

/**
 * How the values found for a condition combine. Arguments come from the agent, who can turn one
 * value into an array or add an argument, so they are always read the strict way:
 * - `any` (restricting uses: block/approve/throttle rules, sensitivity `when`): holds when any
 *   value passes the test (after `not`, applied to each value); with no value at all it holds
 *   only when negated ("path not within /w" holds for a call without a path).
 * - `every` (allow rules): holds only when there is at least one value and every value passes.
 * - `set` (claims: trusted identity data): a list claim holds when any item passes and `not`
 *   negates the whole, so `groups: {in: [a, b], not: true}` means "in neither a nor b".
 * Whenever a bound cut the search short, `any` holds and `every` does not (fail safe).
 */
export type Quantifier = 'any' | 'every' | 'set';

interface Values {
  readonly items: readonly unknown[];
  readonly truncated: boolean;
}

function flatten(found: readonly unknown[], intoArrays: boolean, truncated: boolean): Values {
  if (!intoArrays || !found.some(Array.isArray)) return { items: found.length > MAX_ITEMS ? found.slice(0, MAX_ITEMS) : found, truncated };
  const items: unknown[] = [];
  for (const v of found) {
    if (!Array.isArray(v)) items.push(v);
    else for (const item of v) items.push(item);
    if (items.length > MAX_ITEMS) return { items: items.slice(0, MAX_ITEMS), truncated: true };
  }
  return { items, truncated };
}

/** Collects the values at one or more paths (an array value counts as its items unless intoArrays is false). */
function valueCollector(paths: readonly PathSegments[], intoArrays: boolean): (root: unknown) => Values {
  return (root) => {
    const pooled: unknown[] = [];
    let truncated = false;
    for (const segments of paths) {
      const found = findValues(root, segments);
      truncated ||= found.truncated;
      for (const v of found.values) pooled.push(v);
    }
    return flatten(pooled, intoArrays, truncated);
  };
}

function quantify(q: Quantifier, negate: boolean, test: (v: unknown) => boolean): (values: Values) => boolean {
  switch (q) {
    case 'any':
      return ({ items, truncated }) => truncated || (items.length === 0 ? negate : items.some((v) => test(v) !== negate));
    case 'every':
      return ({ items, truncated }) => !truncated && items.length > 0 && items.every((v) => test(v) !== negate);
    case 'set':
      return ({ items }) => items.some(test) !== negate;
    default: {
      const never: never = q;
      throw new Error(`unknown quantifier ${String(never)}`);
    }
  }
}

/** Compiles one validated condition (regexes, globs and roots built here, never per call). */
export function compileCondition(c: Condition, q: Quantifier = 'any'): CompiledCondition {
  const paths = (Array.isArray(c.path) ? c.path : [c.path]).map(compilePath);
  const negate = c.not === true;
  if (c.exists !== undefined) {
    const collect = valueCollector(paths, false);
    const want = c.exists;
    // Presence is one fact about the call, not a test per value.
    return (root) => (collect(root).items.length > 0 === want) !== negate;
  }
  // Every operator but `contains` looks inside an array value (an array is its items).
  const intoArrays = c.contains === undefined;
  const test = valueTest(c);
  const judge = quantify(q, negate, test);
  const only = paths.length === 1 ? paths[0] : undefined;
  if (only && !hasWildcard(only)) {
    // Fast path (the common case): one plain path, no allocation unless the value is an array.
    const none = q !== 'every' && negate;
    return (root) => {
      const v = singleValueAt(root, only);
      if (v === MISSING) return none;
      if (intoArrays && Array.isArray(v)) return judge(flatten(v, false, v.length > MAX_ITEMS));
      return test(v) !== negate;
    };
  }
  const collect = valueCollector(paths, intoArrays);
  return (root) => judge(collect(root));
}

/** All conditions must hold; an empty list holds. */
export function compileConditions(list: readonly Condition[] | undefined, q: Quantifier = 'any'): CompiledCondition | undefined {
  if (!list || list.length === 0) return undefined;
  const compiled = list.map((c) => compileCondition(c, q));
  return (root) => compiled.every((c) => c(root));
}
