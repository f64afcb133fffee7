import picomatch from 'picomatch';
import safeRegex from 'safe-regex2';
import { hasRepeatedAmbiguousAlternation } from './alternation-check.js';

/**
 * Characters a tool/upstream glob may use: MCP tool-name characters plus `* ? [ ] { } , !`, and
 * `/`: the virtual tool `resources/read` (a read judged as a tool call) is named by its method,
 * and a lone upstream's names reach the policy untouched (`fs/write`). `/` is an ordinary
 * character to the name matcher (compile-match.ts), never a path separator.
 */
const NAME_GLOB_CHARS = /^[A-Za-z0-9_.\-*?[\]{},!/]{1,256}$/;
/** Principal globs (users, agents) may also contain `@ + : / |` and `=`. */
const PRINCIPAL_GLOB_CHARS = /^[A-Za-z0-9_.\-*?[\]{},!@+:/|=~]{1,512}$/;

function balanced(glob: string): boolean {
  let square = 0;
  let brace = 0;
  for (const ch of glob) {
    if (ch === '[') square++;
    else if (ch === ']') square--;
    else if (ch === '{') brace++;
    else if (ch === '}') brace--;
    if (square < 0 || brace < 0 || square > 1) return false;
  }
  return square === 0 && brace === 0;
}

function compiles(glob: string): boolean {
  try {
    picomatch.makeRe(glob, { dot: true });
    return true;
  } catch {
    return false;
  }
}

/** Returns why a tool/upstream name glob is invalid, or undefined when it is fine. */
export function nameGlobProblem(glob: string, kind: 'name' | 'principal' = 'name'): string | undefined {
  const chars = kind === 'name' ? NAME_GLOB_CHARS : PRINCIPAL_GLOB_CHARS;
  if (!chars.test(glob)) {
    return kind === 'name'
      ? 'expected a glob of tool-name characters [A-Za-z0-9_./-] and * ? [] {} , !'
      : 'expected a glob of identifier characters and * ? [] {} , !';
  }
  if (!balanced(glob) || !compiles(glob)) return 'expected a glob with balanced [] and {}';
  if (glob.includes('**')) return "'**' has no meaning in a name glob; use '*'";
  return undefined;
}

/** Returns why a value glob is invalid (any characters, balanced, compiles), or undefined. */
export function valueGlobProblem(glob: string): string | undefined {
  if (glob.length === 0 || glob.length > 1024) return 'expected a glob of 1..1024 characters';
  if (!compiles(glob)) return 'expected a valid glob';
  return undefined;
}

/**
 * Returns why a regular expression is unacceptable, or undefined. Rejects syntax errors and
 * patterns with catastrophic backtracking (safe-regex2 star height, and repeated groups whose
 * alternatives overlap: alternation-check.ts), so one policy cannot
 * turn a crafted argument into a denial of service.
 */
export function regexProblem(source: string, flags = ''): string | undefined {
  if (source.length > 1024) return 'expected a regular expression of at most 1024 characters';
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch (err) {
    return `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!safeRegex(re)) return 'unsafe regular expression (catastrophic backtracking); simplify nested quantifiers';
  if (hasRepeatedAmbiguousAlternation(source, re.flags)) {
    return 'unsafe regular expression (catastrophic backtracking); alternatives in a repeated group must start with different literal characters';
  }
  return undefined;
}
