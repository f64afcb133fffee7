import { performance } from 'node:perf_hooks';

/**
 * The time one decision may spend on long argument strings, in all: regexes (bounded-regex.ts),
 * globs and path normalising (compile-condition.ts). A decision is synchronous, so every caller
 * of warden waits while it runs; an agent controls how many long values it sends (4 MiB of
 * 4096-character paths took about a second of glob work). Once the budget is spent, further
 * long values are not judged: block and approve conditions hold, allow conditions fail, so the
 * budget can only make a decision stricter.
 */
const BUDGET_MS = 250;
/** Strings up to this length are cheap to test and never charged. */
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
 * `work()` on a long string, its time charged; undefined (not judged) when the budget is already
 * spent. `work` itself must be bounded (it cannot be interrupted): one value's test is.
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
