/**
 * A load-time check that safe-regex2 (star height only) does not make: a repeated group whose
 * alternatives can match the same text, such as `([a-z0-9]|[a-z])*` or `(a|a){30}`, backtracks
 * exponentially on a string that almost matches. A decision is synchronous and a running regex
 * cannot be interrupted, so one such pattern lets any agent stall warden with one argument.
 *
 * Deliberately simple and conservative: the alternatives of a group that is repeated (`*`, `+`,
 * `{n,}`, `{n,m}` with m > 1), or that sits inside a repeated group, must each start with a
 * plain literal character (or an escaped punctuation character) that no other alternative
 * starts with. Anything less certain (a class, `.`, `\w`, a group, an empty or optional start)
 * is reported, so a safe pattern may need rewriting, but an ambiguous one never loads.
 */
interface Frame {
  /** Source index where each alternative of the group starts. */
  readonly alts: number[];
  /** An ambiguous alternation was found inside (at any depth). */
  risky: boolean;
}

const GROUP_PREFIX = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/;

/** True when `source` has an ambiguous alternation under a repetition (see above). */
export function hasRepeatedAmbiguousAlternation(source: string, flags = ''): boolean {
  const fold = flags.includes('i');
  const stack: Frame[] = [{ alts: [0], risky: false }];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
    } else if (ch === '[') {
      inClass = true;
    } else if (ch === '(') {
      const prefix = GROUP_PREFIX.exec(source.slice(i + 1, i + 130));
      const start = i + 1 + (prefix ? prefix[0].length : 0);
      stack.push({ alts: [start], risky: false });
      i = start - 1;
    } else if (ch === '|') {
      (stack[stack.length - 1] as Frame).alts.push(i + 1);
    } else if (ch === ')') {
      const frame = stack.pop();
      // Unbalanced: the RegExp constructor has already refused it; report rather than guess.
      if (!frame || stack.length === 0) return true;
      const risky = frame.risky || ambiguous(source, frame.alts, fold);
      if (risky && repeats(source, i + 1)) return true;
      if (risky) (stack[stack.length - 1] as Frame).risky = true;
    }
  }
  return false;
}

/** Whether the quantifier at `at` (if any) lets the group before it match more than once. */
function repeats(source: string, at: number): boolean {
  const q = source[at];
  if (q === '*' || q === '+') return true;
  if (q !== '{') return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at, at + 40));
  if (!m) return false;
  const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
  return max > 1;
}

/** The literal character an alternative certainly starts with, or undefined when not certain. */
function literalStart(source: string, at: number): string | undefined {
  const ch = source[at];
  let c: string | undefined;
  let next = at + 1;
  if (ch === '\\') {
    const e = source[at + 1];
    c = e !== undefined && /[^A-Za-z0-9]/.test(e) ? e : undefined;
    next = at + 2;
  } else if (ch !== undefined && !'|)[.(^$*+?{'.includes(ch)) {
    c = ch;
  }
  // `a?b` or `a*b` may start with b.
  const q = source[next];
  return q === '?' || q === '*' || q === '{' ? undefined : c;
}

function ambiguous(source: string, alts: readonly number[], fold: boolean): boolean {
  if (alts.length < 2) return false;
  const firsts = new Set<string>();
  for (const at of alts) {
    const c = literalStart(source, at);
    if (c === undefined) return true;
    const k = fold ? c.toLowerCase() : c;
    if (firsts.has(k)) return true;
    firsts.add(k);
  }
  return false;
}
