import type { Decision } from '../core/decision.js';
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
export async function decideToolCall(
  store: StateStore,
  policy: CompiledPolicy,
  req: ToolCallRequest,
  now: number,
): Promise<{ decision: Decision; signals: Signals }> {
  const signals = await collectSignals(store, req, now, signalOptionsFor(policy, req));
  return { decision: evaluate(policy, { principal: req.principal, call: req, signals, now }), signals };
}

/** Feeds a forwarded call's outcome back into the volume and novelty state (never throws). */
export async function recordOutcome(
  store: StateStore,
  policy: CompiledPolicy,
  req: ToolCallRequest,
  outcome: UpstreamOutcome,
  now: number,
): Promise<void> {
  try {
    await observeOutcome(store, req, outcome, now, signalOptionsFor(policy, req));
  } catch {
    // Losing one outcome only weakens a volume signal; it must never break the response path.
  }
}
