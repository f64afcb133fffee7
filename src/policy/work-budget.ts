import { performance } from 'node:perf_hooks';

/**
 * The time one decision may spend testing argument strings, in all: regexes (bounded-regex.ts),
 * globs and path normalising (compile-condition.ts). A decision is synchronous, so every caller
 * of warden waits while it runs; an agent controls how many values it sends (4 MiB of
 * 4096-character paths took about a second of glob work). Short strings are charged too: a
 * polynomial pattern that passes the load checks (`.*a.*b.*c`, a glob `*a*b*c*d*e`) takes about
 * 90 ms on one 256-character string, so a thousand of them held the decision for minutes. Once
 * the budget is spent, further values are not judged: block and approve conditions hold, allow
 * conditions fail, so the budget can only make a decision stricter.
 */
const BUDGET_MS = 250;
/**
 * Strings up to this length run without the regex watchdog (a V8 timeout costs ~0.2 ms per run,
 * far more than a short match); their time is still measured and charged.
 */
export const CHEAP_UP_TO = 256;

let spentMs = 0;

/** Starts a decision's budget (evaluate calls this once per decision). */
export function resetWorkBudget(): void {
  spentMs = 0;
}

/** Milliseconds left in this decision's budget (may be zero or less). */
export function budgetLeftMs(): number {
  return BUDGET_MS - spentMs;
}

/** Charges `ms` to the decision's budget. */
export function charge(ms: number): void {
  spentMs += ms;
}

/**
 * `work()` on one argument string, its time charged; undefined (not judged) when the budget is
 * already spent. `work` cannot be interrupted: one value's test is bounded by the string's length.
 */
export function budgeted<T>(work: () => T): T | undefined {
  if (budgetLeftMs() <= 0) return undefined;
  const started = performance.now();
  try {
    return work();
  } finally {
    charge(performance.now() - started);
  }
}
