import picomatch from 'picomatch';
import { boundedTest } from './bounded-regex.js';
import type { Condition } from './condition-schema.js';
import { withoutCrossFolds } from './cross-folds.js';
import { comparesText, judgedAlsoAsNfc, withNfcLiterals } from './nfc-reading.js';
import { fileUrlReading, globSubject, hasShortNameSegment, isWindowsPath, normaliseRoot, pathReadingOfUrlLike, posixBackslashReading, webUrlReading, withinVerdict } from './path-containment.js';
import { compilePath, findValues, hasWildcard, MAX_ITEMS, MAX_STRING, MISSING, singleValueAt, type PathSegments } from './safe-access.js';
import { AMBIGUOUS_NUMBER, NOT_A_NUMBER, numberReading } from './number-reading.js';
import { contains, equals, equalsAny, MAX_NESTING, textOf, UNJUDGED, type Verdict } from './value-equality.js';
import { budgeted } from './work-budget.js';

/** A precompiled condition: a pure predicate over a root object (arguments or claims). */
export type CompiledCondition = (root: unknown) => boolean;

const lower = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

/**
 * A test of one string, run under the decision's work budget (an agent's argument, short or long,
 * not a signed claim: `set`); a value the budget does not reach is not judged.
 */
function affordable(q: Quantifier, test: (s: string) => Verdict, numbersAsText = false): (v: unknown) => Verdict {
  return (raw) => {
    const v = numbersAsText ? textOf(raw) : raw;
    if (typeof v !== 'string') return false;
    // Too long to normalise and match: not judged (the quantifier fails safe), never "no match".
    if (v.length > MAX_STRING) return UNJUDGED;
    if (q === 'set') return test(v);
    return budgeted(() => test(v));
  };
}

function globTest(c: Condition & { glob: string }): (s: string) => Verdict {
  const nocase = c.nocase === true;
  // Patterns are compared in NFC, the form subjects are also read in (otherReadings).
  const glob = c.glob.normalize('NFC');
  const exact = picomatch(glob, { dot: true, nocase });
  // Windows paths are case-insensitive on their own file systems: `C:\USERS\U\.SSH\ID_RSA` is
  // the same file as `c:\users\u\.ssh\id_rsa` (UNC and device paths too), so such a subject
  // always matches ignoring case.
  const folded = nocase ? exact : picomatch(glob, { dot: true, nocase: true });
  return (v) => {
    // A reader taking the string as a C string stops at a NUL (`/etc/shadow\0.txt` opens
    // /etc/shadow): which file it names depends on the reader, so it is not judged (as `within`
    // never takes such a path inside).
    if (v.includes('\0')) return UNJUDGED;
    const windows = isWindowsPath(v);
    const match = windows ? folded : exact;
    const subject = globSubject(v);
    // `C:\Users\u\AWS~1\CREDEN~1` is `.aws\credentials` to Win32: a short name hides the long
    // name a glob is written for, so the value is not judged.
    if (windows && hasShortNameSegment(subject)) return UNJUDGED;
    const plain = match(subject);
    // `/w\.ssh\id` is `/w/.ssh/id` to Windows, one file name in `/` to POSIX.
    const posixRead = posixBackslashReading(v);
    if (posixRead !== undefined && match(globSubject(posixRead)) !== plain) return UNJUDGED;
    // Another reading of the same path that gives another answer: neither is certain, so the
    // value is not judged (block rules hold, allow rules fail).
    for (const other of otherReadings(subject)) if (match(other) !== plain) return UNJUDGED;
    // A URL-like string with dot segments, read as the path a server resolves it to.
    const asPath = pathReadingOfUrlLike(v);
    if (asPath !== undefined) for (const other of [asPath, ...otherReadings(asPath)]) if (match(other) !== plain) return UNJUDGED;
    // A file URL as a URL reader reads it (`?`, `#`, percent-escapes such as `%2Essh`).
    const asUrl = fileUrlReading(v);
    if (asUrl !== undefined) {
      const urlSubject = globSubject(asUrl);
      for (const other of [urlSubject, ...otherReadings(urlSubject)]) if (match(other) !== plain) return UNJUDGED;
    }
    // A web URL as a client fetches it (host case, `..` and `%2e%2e` resolved).
    const asHref = webUrlReading(v);
    if (asHref !== undefined && match(asHref) !== plain) return UNJUDGED;
    return plain;
  };
}

/** The leading `../` segments of a normalised relative path. */
const CLIMBS = /^(?:\.\.(?:\/|$))+/;

/**
 * Other spellings a server may resolve a path subject to:
 * - a relative path that climbs above its base (`../una/.ssh/id_rsa`, left so by normalising)
 *   names something below a folder nobody here knows, and picomatch never lets `**` match `..`,
 *   so read as written it would dodge a glob for `.ssh` folders: it is also read without the climb;
 * - a decomposed (NFD) name: the filesystem server opens `Geha\u0308lter` as an existing
 *   `Gehälter` and macOS file systems ignore the difference: it is also read as NFC.
 */
function otherReadings(subject: string): string[] {
  const out: string[] = [];
  const nfc = /[^\x00-\x7f]/.test(subject) ? subject.normalize('NFC') : subject;
  if (nfc !== subject) out.push(nfc);
  for (const s of [subject, nfc]) if (CLIMBS.test(s)) out.push(s.replace(CLIMBS, ''));
  return out;
}

/** The test one value must pass (before `not`); patterns and roots are built here, once. */
function valueTest(c: Condition, q: Quantifier): (v: unknown) => Verdict {
  // Text comparisons also read a value in NFC (nfc-reading.ts); globs and `within` have their
  // own NFC reading of path subjects.
  const text = comparesText(c);
  const plain = foldingTest(text ? withNfcLiterals(c) : c, q);
  const test = text ? judgedAlsoAsNfc<Verdict>(plain, UNJUDGED) : plain;
  return foldsCase(c) ? judgedWithoutCrossFolds(test) : test;
}

/**
 * Whether the test folds case with `toLowerCase` or Unicode case folding (a regex with `i` and
 * `u`; `within`, which folds Windows drive paths always). Globs and plain `i` regexes fold the
 * way JS regexes do without `u`, which never maps a non-ASCII character onto ASCII, so they need
 * no second reading.
 */
function foldsCase(c: Condition): boolean {
  if (c.regex !== undefined) return (c.flags ?? '').includes('u') && (c.nocase === true || (c.flags ?? '').includes('i'));
  // `within` always lower-cases a Windows drive path (those file systems ignore case), nocase or not.
  if (c.within !== undefined) return true;
  return c.nocase === true && (c.eq !== undefined || c.in !== undefined || c.contains !== undefined);
}

/**
 * A value with a character whose case fold lands on ASCII (KELVIN SIGN as `k`) is also judged
 * with those characters taken as no letter at all; when the two readings disagree the value is
 * not judged (block rules hold, allow rules fail), as for other ambiguous spellings.
 */
function judgedWithoutCrossFolds(test: (v: unknown) => Verdict): (v: unknown) => Verdict {
  return (v) => {
    const verdict = test(v);
    const strict = withoutCrossFolds(v);
    if (strict === v) return verdict;
    return test(strict) === verdict ? verdict : UNJUDGED;
  };
}

function foldingTest(c: Condition, q: Quantifier): (v: unknown) => Verdict {
  const nocase = c.nocase === true;
  if (c.eq !== undefined) {
    const eq = nocase ? lower(c.eq) : c.eq;
    return (v) => equals(v, eq, nocase);
  }
  if (c.in !== undefined) {
    const set = nocase ? c.in.map(lower) : c.in;
    return (v) => equalsAny(v, set, nocase);
  }
  if (c.gt !== undefined) return numeric((n) => n > (c.gt as number));
  if (c.gte !== undefined) return numeric((n) => n >= (c.gte as number));
  if (c.lt !== undefined) return numeric((n) => n < (c.lt as number));
  if (c.lte !== undefined) return numeric((n) => n <= (c.lte as number));
  if (c.regex !== undefined) {
    let flags = (c.flags ?? '').replace(/[gy]/g, '');
    if (nocase && !flags.includes('i')) flags += 'i';
    const re = new RegExp(c.regex, flags);
    // Beyond MAX_STRING a match could hide in the part not searched: no match there is not
    // judged, and neither is a match of a pattern that can see the cut. An agent's
    // long string runs under a time limit (bounded-regex.ts); a run cut short is not judged
    // either. Claims (`set`) are signed identity data, not the agent's choice: run directly.
    const test = q === 'set' ? (s: string) => re.test(s) : (s: string) => boundedTest(re, s);
    const prefixMatchIsCertain = !looksPastTheCut(c.regex);
    return (raw) => {
      const v = textOf(raw);
      if (v === undefined) return false;
      if (v.length <= MAX_STRING) return test(v);
      // A match in the prefix is a match in the whole string only when the pattern cannot see
      // where the prefix was cut: `$`, `\b` or a lookahead take the cut for the end.
      return (prefixMatchIsCertain && test(v.slice(0, MAX_STRING)) === true) || UNJUDGED;
    };
  }
  if (c.glob !== undefined) return affordable(q, globTest(c as Condition & { glob: string }), true);
  if (c.within !== undefined) {
    const roots = c.within.map((r) => normaliseRoot(r, nocase));
    // Judged only when every reading of the path agrees (withinVerdict): a file URL as written
    // and as a URL reader reads it, `/workspace\x` to Windows and to POSIX.
    return affordable(q, (v) => withinVerdict(v, roots, nocase) ?? UNJUDGED);
  }
  if (c.contains !== undefined) {
    const needle = nocase ? lower(c.contains) : c.contains;
    const loose = q === 'any';
    return (v) => contains(v, needle, nocase, loose);
  }
  // `exists` is handled by the caller on the number of values found.
  return () => true;
}

/**
 * Whether a pattern may test what follows its match: `$` (which matches at the end of a cut
 * prefix as at the end of the string), `\b`/`\B` and lookaheads. Conservative: a `$` or `\b`
 * that is really literal (in a class, escaped) counts too, which only leaves a value unjudged.
 */
function looksPastTheCut(source: string): boolean {
  return source.includes('$') || /\\[bB]/.test(source) || source.includes('(?=') || source.includes('(?!');
}

/** A numeric comparison: not judged when parsers may read the value as another number (number-reading.ts). */
function numeric(test: (n: number) => boolean): (v: unknown) => Verdict {
  return (v) => {
    const n = numberReading(v);
    if (n === AMBIGUOUS_NUMBER) return UNJUDGED;
    return n !== NOT_A_NUMBER && test(n);
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
  if (!intoArrays || !found.some(Array.isArray)) return { items: found.length > MAX_ITEMS ? found.slice(0, MAX_ITEMS) : found, truncated: truncated || found.length > MAX_ITEMS };
  const items: unknown[] = [];
  // Arrays in arrays too: `[["/etc/shadow"]]` is looked at as "/etc/shadow", not as one array value.
  const cut = pushItems(found, items, 0);
  return { items: items.length > MAX_ITEMS ? items.slice(0, MAX_ITEMS) : items, truncated: truncated || cut || items.length > MAX_ITEMS };
}

/** Pushes the non-array items of `values` (arrays opened up to MAX_NESTING deep); true when cut short. */
function pushItems(values: readonly unknown[], out: unknown[], depth: number): boolean {
  for (const v of values) {
    if (out.length > MAX_ITEMS) return true;
    if (!Array.isArray(v)) out.push(v);
    else if (depth >= MAX_NESTING || pushItems(v, out, depth + 1)) return true;
  }
  return false;
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

/**
 * One value's outcome under the quantifier, `not` applied: a value that could not be judged holds
 * for `any` and fails for `every`, like a search cut short; for `set` (trusted claims) it is no match.
 */
function one(q: Quantifier, negate: boolean, test: (v: unknown) => Verdict): (v: unknown) => boolean {
  if (q === 'set') return (v) => test(v) === true;
  const unjudged = q === 'any';
  return (v) => {
    const r = test(v);
    return r === UNJUDGED ? unjudged : r !== negate;
  };
}

function quantify(q: Quantifier, negate: boolean, test: (v: unknown) => Verdict): (values: Values) => boolean {
  const holds = one(q, negate, test);
  switch (q) {
    case 'any':
      return ({ items, truncated }) => truncated || (items.length === 0 ? negate : items.some(holds));
    case 'every':
      return ({ items, truncated }) => !truncated && items.length > 0 && items.every(holds);
    case 'set':
      return ({ items }) => items.some(holds) !== negate;
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
    // Presence is one fact about the call, not a test per value. A search cut short by a bound
    // may have missed the value (the 1001st item's key, one 40 levels deep): like any other
    // condition, it then holds for restricting rules and fails for allow rules.
    return (root) => {
      const found = collect(root);
      if (found.truncated && q !== 'set') return q === 'any';
      return (found.items.length > 0 === want) !== negate;
    };
  }
  // Every operator but `contains` looks inside an array value (an array is its items).
  const intoArrays = c.contains === undefined;
  const test = valueTest(c, q);
  const judge = quantify(q, negate, test);
  const only = paths.length === 1 ? paths[0] : undefined;
  if (only && !hasWildcard(only)) {
    // Fast path (the common case): one plain path, no allocation unless the value is an array.
    const none = q !== 'every' && negate;
    const single = q === 'set' ? (v: unknown) => (test(v) === true) !== negate : one(q, negate, test);
    return (root) => {
      const v = singleValueAt(root, only);
      if (v === MISSING) return none;
      if (intoArrays && Array.isArray(v)) return judge(flatten([v], true, false));
      return single(v);
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
