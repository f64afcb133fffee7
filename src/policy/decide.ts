import type { Decision } from '../core/decision.js';
import { andThen, isThenable, type MaybePromise } from '../core/maybe-promise.js';
import type { ToolCallRequest, UpstreamOutcome } from '../core/tool-call.js';
import { collectSignals, observeOutcome } from '../signals/collect-signals.js';
import type { Signals } from '../signals/signals.js';
import type { StateStore } from '../state/state-store.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { evaluate } from './evaluate.js';
import { signalOptionsFor } from './signal-options.js';

/**
 * Convenience for the guard: collect signals (updating the store) then evaluate.
 * Throws only if the store throws; the guard's catch-all turns that into a block.
 */
export function decideToolCall(
  store: StateStore,
  policy: CompiledPolicy,
  req: ToolCallRequest,
  now: number,
): MaybePromise<{ decision: Decision; signals: Signals }> {
  return andThen(collectSignals(store, req, now, signalOptionsFor(policy, req)), (signals) => ({
    decision: evaluate(policy, { principal: req.principal, call: req, signals, now }),
    signals,
  }));
}

/** Feeds a forwarded call's outcome back into the volume and novelty state (never throws, never rejects). */
export function recordOutcome(
  store: StateStore,
  policy: CompiledPolicy,
  req: ToolCallRequest,
  outcome: UpstreamOutcome,
  now: number,
): MaybePromise<void> {
  // Losing one outcome only weakens a volume signal; it must never break the response path.
  const ignore = (): void => undefined;
  try {
    const done = observeOutcome(store, req, outcome, now, signalOptionsFor(policy, req));
    return isThenable(done) ? Promise.resolve(done).then(undefined, ignore) : undefined;
  } catch {
    return undefined;
  }
}
