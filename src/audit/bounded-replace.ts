import { performance } from 'node:perf_hooks';
import { createContext, Script } from 'node:vm';

/**
 * Runs an operator-written redaction pattern over a long string without letting it stall warden.
 * Redaction is synchronous on the write path (the record must be on disk before the call is
 * forwarded), so a pattern that backtracks polynomially on a crafted 4 MiB argument would hold
 * every session for minutes. The load check (pattern-probe.ts) refuses the usual such patterns;
 * this is the guarantee behind it: a long string is replaced under a V8 timeout, which interrupts
 * a running regex, and all such work together may take at most a share of the event loop (a
 * token bucket). A replace that is stopped, or finds the budget spent, returns undefined and the
 * caller redacts the whole string: over-redaction fails safe, and the digest of the full value
 * still identifies it.
 *
 * The sandbox call costs a watchdog thread (~0.1–0.3 ms), which is why only long strings go here.
 */

/**
 * One string may take this long, plus PER_MIB_MS for each MiB of it: a linear pattern replacing
 * many matches spends up to ~100 ns per character building the result. Generous, because the
 * limit is wall-clock time: on a loaded machine a process is paused for 100 ms and more, and a
 * sound pattern must not be cut for that.
 */
const BASE_MS = 250;
const PER_MIB_MS = 400;
/**
 * What a replace that finishes may take before any of it is charged to the bucket: the sandbox
 * call's own cost (a watchdog thread, ~0.1–0.3 ms) plus ~100 ns per character. Sound patterns
 * therefore do not drain the bucket, however many long strings pass, and what they write does not
 * depend on load. A replace that is stopped is charged in full, so the time a backtracking
 * pattern can hold the event loop is bounded by the refill rate. Charges are CPU time, and a
 * replace stopped while the process was mostly paused (a busy machine) is tried again: a
 * backtracking pattern keeps the CPU busy the whole time.
 */
const FREE_MS = 1;
const FREE_NS_PER_CHAR = 100;
/** The bucket: at most this much charged pattern time in a burst… */
const BUDGET_MS = 500;
/** …refilled at this many milliseconds per second of wall time (a quarter of the event loop). */
const REFILL_PER_SECOND_MS = 250;

const context = createContext({ re: /(?:)/g, s: '', r: '' });
const script = new Script('s.replace(re, r)');
const sandbox = context as { re: RegExp; s: string; r: string };

let budgetMs = BUDGET_MS;
let refilledAt = performance.now();

function refill(now: number): void {
  budgetMs = Math.min(BUDGET_MS, budgetMs + ((now - refilledAt) * REFILL_PER_SECOND_MS) / 1000);
  refilledAt = now;
}

/** `s.replace(re, replacement)`, or undefined when it did not finish within the time allowed. */
export function boundedReplace(re: RegExp, s: string, replacement: string): string | undefined {
  refill(performance.now());
  const free = freeMs(s);
  const limit = BASE_MS + (s.length / 1_048_576) * PER_MIB_MS;
  return chargedRun(re, s, replacement, free, () => (budgetMs <= 0 ? undefined : Math.ceil(Math.min(limit, budgetMs + free)))).out;
}

/** What a linear pattern may take on `s` before any of its time is charged (see FREE_MS). */
function freeMs(s: string): number {
  return FREE_MS + (s.length * FREE_NS_PER_CHAR) / 1e6;
}

/**
 * Runs the replace in the sandbox under `timeoutMs()` (undefined: do not run), charging its CPU
 * time beyond `free` to the budget (all of it when stopped). A run stopped while the process was
 * mostly paused, not busy, is tried again (ATTEMPTS in all). `out` is undefined when no run finished.
 */
function chargedRun(re: RegExp, s: string, replacement: string, free: number, timeoutMs: () => number | undefined): { out: string | undefined; cpuMs: number } {
  let cpuMs = 0;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const allowed = timeoutMs();
    if (allowed === undefined) break;
    const run = replaceWithin(re, s, replacement, allowed);
    cpuMs = run.cpuMs;
    if (run.out !== undefined) {
      budgetMs -= Math.max(0, run.cpuMs - free);
      return { out: run.out, cpuMs };
    }
    budgetMs -= run.cpuMs;
    // Stopped while mostly not running (the machine paused the process): not the pattern's fault.
    if (run.cpuMs >= run.wallMs / 2) break;
  }
  return { out: undefined, cpuMs };
}

/**
 * A direct replace (a short string, no sandbox) that took longer than this is not a linear
 * pattern at work: a sound pattern takes well under a millisecond on the 4,096 characters a
 * direct replace gets, so only a backtracking pattern (or a rare long pause of the process)
 * gets here.
 */
const SLOW_DIRECT_MS = 20;

/**
 * `s.replace(re, replacement)` run directly, for a short string: the sandbox's watchdog costs
 * ~0.1 ms, far more than a linear pattern on a short string. Its time beyond what a linear
 * pattern needs is charged to the same budget as bounded replaces, and `slow` says the caller
 * must bound this pattern from now on: the load probe is a heuristic, and a pattern it missed
 * takes seconds on a 4,096-character string (minutes for some), which an argument of many such
 * strings repeated without end. Undefined when the budget is spent (the caller redacts whole).
 */
export function timedReplace(re: RegExp, s: string, replacement: string): { out: string; slow: boolean } | undefined {
  const now = performance.now();
  refill(now);
  if (budgetMs <= 0) return undefined;
  const out = s.replace(re, replacement);
  const free = freeMs(s);
  if (performance.now() - now <= free) return { out, slow: false };
  // Over by the wall clock, which also counts a pause of the process (a busy host): confirm by
  // CPU time on a second, time-limited run, so a pause neither drains the budget nor marks a
  // sound pattern slow for good. Only runs the wall clock flagged pay for this. Not finishing
  // (stopped while busy) means this pattern backtracks on strings like this one.
  const again = chargedRun(re, s, replacement, free, () => Math.ceil(Math.max(1, budgetMs) + free));
  return { out, slow: again.out === undefined || again.cpuMs > SLOW_DIRECT_MS };
}

/** A stopped replace is tried again this many times in all when the process was paused rather than busy. */
const ATTEMPTS = 3;

function replaceWithin(re: RegExp, s: string, replacement: string, timeoutMs: number): { out: string | undefined; cpuMs: number; wallMs: number } {
  sandbox.re = re;
  sandbox.s = s;
  sandbox.r = replacement;
  const started = performance.now();
  const cpu = process.cpuUsage();
  let out: string | undefined;
  try {
    const result: unknown = script.runInContext(context, { timeout: timeoutMs });
    if (typeof result === 'string') out = result;
  } catch {
    // ERR_SCRIPT_EXECUTION_TIMEOUT (or any other failure): out stays undefined.
  } finally {
    sandbox.s = '';
  }
  const used = process.cpuUsage(cpu);
  return { out, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started };
}

/** Test hook: a full bucket, as at start-up. */
export function resetReplaceBudget(): void {
  budgetMs = BUDGET_MS;
  refilledAt = performance.now();
}
