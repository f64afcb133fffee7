import type { Decision, Reason, Sensitivity } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import type { GuardVerdict, SessionInfo, ToolCallRequest, ToolDefinition, UpstreamOutcome } from '../core/tool-call.js';

/**
 * The guard depends on these narrow ports, not on the areas' concrete classes, so each stage
 * can be tested alone and replaced (e.g. a shared-state implementation) without touching it.
 */

/** Continuous re-evaluation: has a security event changed what this principal may do? */
export type SubjectVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'revoked'; readonly eventId: string; readonly reason: string }
  | {
      readonly kind: 'step_up';
      readonly minSensitivity: Sensitivity;
      readonly action: 'approve' | 'block';
      readonly eventId: string;
      readonly reason: string;
    };

export interface SubjectGate {
  evaluate(principal: Principal, sessionId: string, now: number): SubjectVerdict | Promise<SubjectVerdict>;
}

/** Pinned tool definitions: is this tool's definition the one an operator accepted? */
export type PinVerdict =
  | { readonly kind: 'pinned' }
  | { readonly kind: 'changed'; readonly diff: string }
  | { readonly kind: 'new' };

export interface PinGate {
  check(upstream: string, tool: string): PinVerdict;
  /** What to do with a changed / new definition until it is accepted. */
  readonly onChange: 'approve' | 'block';
  readonly onNew: 'approve' | 'block' | 'allow';
  /** Risk reasons from the tool's description (instructions aimed at the model). */
  scanDescription(text: string): readonly Reason[];
  observe(upstream: string, tools: readonly ToolDefinition[]): void;
}

/** Signals + risk + policy: the decision for one call. */
export interface DecisionEngine {
  decide(req: ToolCallRequest, extraReasons: readonly Reason[], now: number): Promise<Decision>;
  /** Feed what the upstream returned back into volume baselines. */
  observeOutcome(req: ToolCallRequest, outcome: UpstreamOutcome, now: number): void | Promise<void>;
  /** Tools this principal may never call (hidden from tools/list, -32602 on call). */
  isHidden(principal: Principal, upstream: string, tool: string): boolean;
  /** Redacts argument values for audit and approval display; keeps a digest of the whole. */
  redact(value: unknown): { readonly redacted: unknown; readonly digest: string };
}

/** Makes a decision real: throttle, ask a human, block, or forward. */
export interface Enforcer {
  enforce(req: ToolCallRequest, decision: Decision, display: { readonly redactedArguments: unknown }): Promise<GuardVerdict>;
  /** Result shown to the agent when the guard blocks on its own (revocation, internal error). */
  blockResult(req: ToolCallRequest, reason: string, message: string, decision?: Decision): Record<string, unknown>;
}

/** Operators' view of live sessions. */
export interface SessionTracker {
  opened(info: SessionInfo): void;
  closed(sessionId: string, reason: string): void;
  recordCall(sessionId: string, score: number, action: string): void;
}
