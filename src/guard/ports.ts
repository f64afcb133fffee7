import type { Action, Decision, Reason } from '../core/decision.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { Principal } from '../core/principal.js';
import type { DefinitionListing, GuardVerdict, ListedDefinition, ListedKind, SessionInfo, ToolCallRequest, UpstreamOutcome } from '../core/tool-call.js';
import type { EnforceOptions } from '../enforce/enforce-decision.js';
import type { EvaluateResult } from '../events/registry-entry.js';

/**
 * The guard depends on these narrow ports, not on the areas' concrete classes, so each stage
 * can be tested alone and replaced (e.g. a shared-state implementation) without touching it.
 */

/** Continuous re-evaluation: has a security event changed what this principal may do? */
export interface SubjectGate {
  evaluate(principal: Principal, sessionId: string, now: number): EvaluateResult;
  /** The principal with claim overrides from `token-claims-change` events applied. */
  effectivePrincipal(principal: Principal, sessionId: string, now: number): Principal;
}

/** Pinned definitions: is this tool's (prompt's, resource template's) definition the one an operator accepted? */
export interface PinGate {
  /** Whether the list may show the definition (default: a tool) as just listed (only accepted, unpoisoned definitions). */
  listing(upstream: string, name: string, kind?: 'tool' | ListedKind): DefinitionListing;
  /** Minimum action while a changed or new definition is not accepted, with why. */
  verdict(upstream: string, tool: string): { readonly action: Action; readonly reasons: readonly Reason[] };
  /** Reasons from the tool's description (instructions aimed at the model). */
  risk(upstream: string, tool: string): readonly Reason[];
  observe(upstream: string, defs: readonly ListedDefinition[], page?: { readonly first: boolean; readonly last: boolean }, kind?: 'tool' | ListedKind): void;
}

/** Signals + risk + policy: the decision for one call. */
export interface DecisionEngine {
  /** At once when the state it reads answers synchronously (the in-memory store), else a promise. */
  decide(req: ToolCallRequest, now: number): MaybePromise<Decision>;
  /**
   * Optional: the decision `req` would get now, counting nothing (no rate, burst, volume or
   * novelty state changes): re-judging a standing subscription. Without it nothing is re-judged.
   */
  recheck?(req: ToolCallRequest, now: number): Promise<Decision>;
  /** Feed what the upstream returned back into volume baselines. Never throws or rejects. */
  observeOutcome(req: ToolCallRequest, outcome: UpstreamOutcome, now: number): MaybePromise<void>;
  /** Tools this principal may never call (hidden from tools/list, -32602 on call). */
  isHidden(principal: Principal, upstream: string, tool: string): boolean;
  /** Redacts argument values for audit and approval display; keeps a digest of the whole. */
  redact(value: unknown): { readonly redacted: unknown; readonly digest: string };
  /**
   * Optional, for `call.received`: the redacted arguments as the `args` field value (which the
   * sink writes exactly as it writes `redact(value).redacted`, possibly from a text computed in
   * the same walk as the digest) and the digest of the whole. Without it the guard uses redact().
   */
  encodeArgs?(value: unknown): { readonly field: unknown; readonly digest: string };
  /** Optional: forget what is kept about a session once it closed. Never throws or rejects. */
  forgetSession?(sessionId: string): void;
  /**
   * Optional: the `policyHash` of the policy in force now. A call that waited (throttle queue)
   * under a policy that has since been replaced is not forwarded on its old decision.
   */
  policyHash?(): string;
}

/** Why a call judged forwardable is refused after all: it waited, or its upstream restarted (see the guard). */
export type WaitRefusal = 'revoked' | 'step_up_required' | 'claims_changed' | 'policy_changed' | 'token_expired' | 'definition_changed' | 'upstream_restarted';

/** Makes a decision real: throttle, ask a human, block, or forward. */
export interface Enforcer {
  /** At once for allow and block; a promise when the call waits (throttle queue, approval). */
  enforce(req: ToolCallRequest, decision: Decision, options?: EnforceOptions): MaybePromise<GuardVerdict>;
  /** Result shown to the agent when the guard blocks on its own (revocation, a step-up that came while the call waited). */
  blockResult(req: ToolCallRequest, reason: WaitRefusal): Record<string, unknown>;
}

/** Operators' view of live sessions. */
export interface SessionTracker {
  opened(info: SessionInfo): void;
  closed(sessionId: string): void;
  /** `at`: when the call was received (ms), shown as the session's `lastCallAt`. */
  recordCall(sessionId: string, score: number, action: string, at: number): void;
  /** The principal the session's current call runs as (it can change mid-session). */
  updatePrincipal?(sessionId: string, principal: Principal): void;
}
