import type { Decision } from '../core/decision.js';
import { andThen, type MaybePromise } from '../core/maybe-promise.js';
import type { Principal } from '../core/principal.js';
import type { ToolCallRequest, UpstreamOutcome } from '../core/tool-call.js';
import type { Signals } from '../signals/signals.js';
import type { StateStore } from '../state/state-store.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { decideToolCall, recordOutcome } from './decide.js';
import { isToolHidden } from './hidden-tools.js';
import { keys } from '../signals/state-keys.js';
import { peekSignals } from '../signals/peek-signals.js';
import { evaluate } from './evaluate.js';
import { signalOptionsFor } from './signal-options.js';

/** What the guard needs from the policy area, bound to one store and a policy source. */
export interface PolicyEngine {
  /**
   * Counts the call, gathers signals, evaluates: at once with an in-memory store, else a promise.
   * Throws (or rejects) only when the store fails (guard blocks).
   */
  decide(req: ToolCallRequest, now: number): MaybePromise<{ decision: Decision; signals: Signals; policy: CompiledPolicy }>;
  /**
   * The decision `req` would get now, without counting it or changing any state (peekSignals): for
   * re-judging what the agent did not ask for again (a standing subscription). Rejects only when
   * the store fails.
   */
  recheck(req: ToolCallRequest, now: number): Promise<{ decision: Decision; policy: CompiledPolicy }>;
  /** Feeds a forwarded call's outcome back (volume, novelty). Never throws or rejects. */
  observeOutcome(req: ToolCallRequest, outcome: UpstreamOutcome, now: number): MaybePromise<void>;
  /** For tools/list: true when the tool can never be called by this principal. */
  isToolHidden(principal: Principal, upstream: string, tool: string): boolean;
  /** Argument paths and value patterns audit and approval prompts must redact. */
  redaction(): CompiledPolicy['redact'];
  /** The policy in force now. */
  policy(): CompiledPolicy;
  /**
   * Drops what the signals keep about a closed session (its first address and client). Session
   * ids are never reused, so the record only takes room another session's record may need.
   */
  forgetSession(sessionId: string): Promise<void>;
}

/**
 * Binds the pure stages to a StateStore and a policy source (typically `holder.current`), so a
 * hot reload takes effect on the next call without rewiring.
 */
export function createPolicyEngine(options: { store: StateStore; policy: () => CompiledPolicy }): PolicyEngine {
  const { store } = options;
  return {
    decide(req, now) {
      const policy = options.policy();
      return andThen(decideToolCall(store, policy, req, now), ({ decision, signals }) => ({ decision, signals, policy }));
    },
    async recheck(req, now) {
      const policy = options.policy();
      const signals = await peekSignals(store, req, now, signalOptionsFor(policy, req));
      return { decision: evaluate(policy, { principal: req.principal, call: req, signals, now }), policy };
    },
    observeOutcome: (req, outcome, now) => recordOutcome(store, options.policy(), req, outcome, now),
    isToolHidden: (principal, upstream, tool) => isToolHidden(options.policy(), principal, upstream, tool),
    redaction: () => options.policy().redact,
    policy: () => options.policy(),
    forgetSession: async (sessionId) => {
      await store.delete(keys.session(sessionId));
    },
  };
}
