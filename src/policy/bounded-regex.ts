import { performance } from 'node:perf_hooks';
import { createContext, Script } from 'node:vm';
import { budgeted, budgetLeftMs, CHEAP_UP_TO, charge, resetWorkBudget } from './work-budget.js';

/**
 * Runs a policy regex on an untrusted string without letting it hold the decision hostage.
 * The load checks refuse nested quantifiers and overlapping repeated alternatives (exponential),
 * but polynomial patterns such as `.*a.*b.*c` or `\d+\d+$` pass them and still take tens of
 * seconds on a 4096-character argument; a decision is synchronous, so every caller would wait.
 * Short strings run directly (a watchdog costs more than the match), their time charged; a
 * longer one runs under a V8 timeout, which interrupts a running regex. A run cut short is not
 * judged (`undefined`), and so is every further match once one decision has spent its work
 * budget (work-budget.ts, shared with globs and paths): many values each just under the
 * timeout, or many short ones, cannot add up to a stall either.
 *
 * The watchdog reads a clock; the decision it affects only ever becomes stricter (a block or
 * approve rule holds, an allow rule fails), never looser.
 */
const context = createContext({ re: /(?:)/, s: '' });
const script = new Script('re.test(s)');
const sandbox = context as { re: RegExp; s: string };

/** Starts a decision's budget (evaluate calls this once per decision); see work-budget.ts. */
export const resetRegexBudget = resetWorkBudget;

/** `re.test(s)`, or undefined when the match did not finish within the time left. */
export function boundedTest(re: RegExp, s: string): boolean | undefined {
  // A short string runs directly, its time charged: many of them cannot add up to a stall.
  if (s.length <= CHEAP_UP_TO) return budgeted(() => re.test(s));
  const left = Math.floor(budgetLeftMs());
  if (left < 1) return undefined;
  sandbox.re = re;
  sandbox.s = s;
  const started = performance.now();
  try {
    return script.runInContext(context, { timeout: left }) === true;
  } catch {
    // ERR_SCRIPT_EXECUTION_TIMEOUT (or any other failure): not judged, so the quantifier fails safe.
    return undefined;
  } finally {
    charge(performance.now() - started);
    sandbox.s = '';
  }
}

// Compile and run the script once now, so a first decision does not pay for it.
boundedTest(/^$/, ' '.repeat(CHEAP_UP_TO + 1));
resetWorkBudget();
