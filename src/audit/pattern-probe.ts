import { performance } from 'node:perf_hooks';
import { createContext, Script } from 'node:vm';
import { regexProblem } from '../policy/pattern-checks.js';

/**
 * A load-time check for operator-written redaction patterns. They run on every argument and
 * result string before the call is written, synchronously, so a pattern that backtracks
 * polynomially (`\w+@\w+\.\w+`, `\d+\d+x`: each start position rescans the rest of a run) lets an
 * agent stall every session with one long argument. safe-regex2 and the alternation check catch
 * exponential patterns only.
 *
 * Polynomial backtracking needs a pumped string: a run of one character or a short cycle, often
 * behind a literal the pattern asks for. The probe replaces with the pattern over such runs at two
 * lengths and refuses it when the time grows faster than the length (and is not trivially small).
 * It is a heuristic that catches the usual mistakes at load, with the file and key named; the
 * scrubber still bounds the time spent on long strings at run time (bounded-replace.ts).
 */

/** Single characters whose runs make typical patterns (word, digit, address, path classes) backtrack. */
const UNITS = [...'aZ0 \t\n.-_@/:=+%"\',;\\~#&?!é'];
/** Two-character cycles: a word character and a separator, the shape of `a.a.a.…` and `a-a-a-…`. */
const PAIRS = ['a.', 'a-', 'a@', 'a ', 'a:', 'a/', 'a_', 'a=', '0.', '0-', '0 ', 'a0'];
/** Prefix candidates beyond the empty one: literal characters of the pattern, at most this many. */
const MAX_PREFIXES = 8;
const SHORT = 512;
const LONG = 4096;
/** A run of LONG characters under this is fine whatever the growth (a linear pattern takes ~0.05 ms). */
const FLOOR_MS = 4;
/**
 * Eight times the length may cost up to this factor before it counts as super-linear: linear
 * gives ~8, quadratic ~64, so either side has a margin of almost 3 against measuring noise on a
 * busy host (with 1 KiB and 4 KiB the margin was 2, and a loaded test run once let a quadratic
 * pattern through).
 */
const GROWTH_LIMIT = 22;
/** One measured replace is stopped after this much wall time; stopped while busy, it is a failure. */
const PROBE_TIMEOUT_MS = 200;
/** The first pass over every probe runs in one sandbox call (one watchdog), stopped after this. */
const SCAN_TIMEOUT_MS = 1000;
/** A stopped scan is resumed after the probe it stopped in, at most this many runs in all. */
const SCAN_RUNS = 6;
/** A measured replace stopped while the process was mostly paused is run again, this many times in all. */
const ATTEMPTS = 3;

/** CPU milliseconds of this process so far. CPU time, not wall time: a busy host pauses the process, and a pause must not make a sound pattern look slow. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * The probes run in a V8 context with a timeout, which interrupts a running regex: a pattern
 * this check exists to refuse must not hang the load that checks it. `now` is the host's CPU clock.
 */
const context = createContext({ re: /(?:)/g, s: '', probes: [] as string[], at: 0, slow: [] as number[], floorMs: FLOOR_MS, now: cpuNow });
const sandbox = context as { re: RegExp; s: string; probes: string[]; at: number; slow: number[] };
const one = new Script("s.replace(re, '')");
const scan = new Script(`
  for (; at < probes.length; at++) {
    const t = now();
    probes[at].replace(re, '');
    if (now() - t >= floorMs) slow.push(at);
  }`);

/** CPU milliseconds one replace took (the least of `tries`), or Infinity when it was stopped while busy. */
function timeReplace(re: RegExp, s: string, tries: number): number {
  let best = Infinity;
  for (let i = 0, paused = 0; i < tries; i++) {
    sandbox.re = re;
    sandbox.s = s;
    const wall = performance.now();
    const cpu = cpuNow();
    try {
      one.runInContext(context, { timeout: PROBE_TIMEOUT_MS });
    } catch {
      const busy = cpuNow() - cpu;
      // Stopped while the process was mostly paused: the machine's fault, not the pattern's.
      if (busy < (performance.now() - wall) / 2 && ++paused < ATTEMPTS) {
        i--;
        continue;
      }
      return Infinity;
    } finally {
      sandbox.s = '';
    }
    best = Math.min(best, cpuNow() - cpu);
  }
  return best;
}

/** Literal characters of the pattern (escaped punctuation included, class escapes such as `\d` not). */
export function literalCharacters(source: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i < source.length && out.size < MAX_PREFIXES; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next !== undefined && !/[A-Za-z0-9]/.test(next)) out.add(next);
      i++;
    } else if (!'[](){}|?*+^$.'.includes(ch)) {
      out.add(ch);
    }
  }
  return [...out];
}

/**
 * Runs of consecutive literal characters in the pattern (2 to 8 long, at most MAX_PREFIXES): the
 * cycles a pattern such as `(?:xy)+(?:xy)+z` backtracks on, which no single character or fixed
 * pair above pumps. Class contents are skipped: `[a-c]` is no run of `a`, `-`, `c`.
 */
export function literalRuns(source: string): string[] {
  const out = new Set<string>();
  let run = '';
  let inClass = false;
  const flush = (): void => {
    if (run.length >= 2 && out.size < MAX_PREFIXES) out.add(run.slice(0, 8));
    run = '';
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[++i];
      if (!inClass && next !== undefined && !/[A-Za-z0-9]/.test(next)) run += next;
      else flush();
    } else if (inClass) {
      if (ch === ']') inClass = false;
    } else if (ch === '[') {
      flush();
      inClass = true;
    } else if (ch === '(' && source[i + 1] === '?') {
      // A group's `?:`, `?=`, `?!`, `?<=`, `?<!` or `?<name>` is syntax, not literal text.
      flush();
      const close = source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!' ? source.indexOf('>', i) : -1;
      i = close >= 0 ? close : source[i + 2] === '<' ? i + 3 : i + 2;
    } else if ('](){}|?*+^$.'.includes(ch)) {
      // A quantifier binds the run's last character alone: that character is no part of a cycle.
      if ('?*+{'.includes(ch)) run = run.slice(0, -1);
      flush();
      // A counted quantifier's `{2,5}` is no text either.
      if (ch === '{' && source.indexOf('}', i) > i) i = source.indexOf('}', i);
    } else {
      run += ch;
    }
  }
  flush();
  return [...out];
}

function runOf(prefix: string, unit: string, length: number): string {
  return prefix + unit.repeat(Math.ceil(length / unit.length));
}

/**
 * Why this redaction pattern is refused (it takes super-linear time on some long string), or
 * undefined. `source` must already compile with the `g` flag.
 */
export function superLinearProblem(source: string): string | undefined {
  const re = new RegExp(source, 'g');
  const shapes: { prefix: string; unit: string }[] = [];
  const units = [...UNITS, ...PAIRS, ...literalRuns(source)];
  for (const prefix of ['', ...literalCharacters(source)]) for (const unit of units) shapes.push({ prefix, unit });
  // First pass: every probe once, in one sandbox call; nearly every probe of a sound pattern is fast.
  Object.assign(sandbox, { re, probes: shapes.map((p) => runOf(p.prefix, p.unit, LONG)), at: 0, slow: [] });
  // A stopped scan (slow probes added up, or the host paused the process) goes on after the probe
  // it stopped in, so a pause on a busy host does not leave the later probes unrun.
  const stopped: number[] = [];
  for (let run = 0; sandbox.at < sandbox.probes.length && run < SCAN_RUNS; run++) {
    try {
      scan.runInContext(context, { timeout: SCAN_TIMEOUT_MS });
    } catch {
      stopped.push(sandbox.at);
      sandbox.at += 1;
    }
  }
  // The probes running when a scan stopped, and the slow ones (their time added up).
  const suspects = [...stopped, ...sandbox.slow];
  Object.assign(sandbox, { probes: [], slow: [] });
  for (const i of suspects) {
    const { prefix, unit } = shapes[i]!;
    // Measure properly: the least CPU time of five, so contention on a busy host counts as little as it can.
    const long = timeReplace(re, runOf(prefix, unit, LONG), 5);
    if (long < FLOOR_MS) continue;
    const short = timeReplace(re, runOf(prefix, unit, SHORT), 5);
    if (long === Infinity || long > GROWTH_LIMIT * Math.max(short, FLOOR_MS / GROWTH_LIMIT)) {
      const sample = JSON.stringify(runOf(prefix, unit, 12)).slice(1, -1);
      const took = long === Infinity ? `over ${PROBE_TIMEOUT_MS} ms` : `${long.toFixed(0)} ms of CPU`;
      return (
        `redaction pattern takes super-linear time on long strings such as "${sample}…" ` +
        `(${took} on ${LONG} characters; a real argument may be 4 MiB); let a match start only at a ` +
        'bounded number of places, e.g. "(?:^|[^A-Za-z0-9])" in front of a run, instead of "\\b" or nothing'
      );
    }
  }
  return undefined;
}

/** Results by pattern source: policy reloads and the config load probe the same patterns again. */
const checked = new Map<string, string | undefined>();
const MAX_CHECKED = 1000;

/**
 * Why a configured redaction pattern (audit config or policy `redact.patterns`) is refused, or
 * undefined: it must compile, pass the policy engine's catastrophic-backtracking checks, and grow
 * linearly on long strings.
 */
export function redactionPatternProblem(source: string): string | undefined {
  if (checked.has(source)) return checked.get(source);
  const problem = regexProblem(source, 'g') ?? superLinearProblem(source);
  if (checked.size >= MAX_CHECKED) checked.clear();
  checked.set(source, problem);
  return problem;
}
