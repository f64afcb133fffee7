import type { Action, Decision } from '../core/decision.js';
import { DECISION_META_KEY, UNKNOWN_TOOL_CODE, unknownToolMessage } from '../core/decision-meta.js';
import type { GuardVerdict, JudgedAction } from '../core/tool-call.js';

export { DECISION_META_KEY };

/** Stable codes for why a call was not forwarded. Documented in the README, "Enforcement: allow, throttle, approve, block". */
export type BlockReasonCode =
  | 'policy_block'
  | 'throttle_rejected'
  | 'approval_denied'
  | 'approval_timeout'
  | 'approval_withdrawn'
  | 'approval_unavailable'
  | 'revoked'
  | 'step_up_required'
  | 'claims_changed'
  | 'policy_changed'
  | 'token_expired'
  | 'definition_changed'
  | 'upstream_restarted'
  | 'internal';

/** The machine-readable part of a refusal, placed under `_meta[DECISION_META_KEY]`. */
export interface DecisionMeta {
  readonly action: Action;
  readonly reason: BlockReasonCode;
  readonly callId: string;
  readonly score?: number;
  readonly rules?: readonly string[];
  /** Codes of the risk reasons (never their inputs). */
  readonly reasons?: readonly string[];
  readonly retryAfterMs?: number;
  readonly approvalId?: string;
  readonly approver?: string;
  readonly policyHash?: string;
}

export interface BlockResultInput {
  readonly callId: string;
  readonly reason: BlockReasonCode;
  /** The decision that led here; absent for internal errors raised before a decision existed. */
  readonly decision?: Decision;
  /** Overrides the action reported (defaults to the decision's enforced action, or `block`). */
  readonly action?: Action;
  /** What was refused, for the text: a tool call (default), or a request judged as a virtual tool (`resources/read`). */
  readonly request?: JudgedAction;
  readonly retryAfterMs?: number;
  readonly approvalId?: string;
  readonly approver?: string;
  /** Free text from a human approver (deny reason). Shown to the agent as-is, bounded. */
  readonly note?: string;
  /**
   * Why an approval request was withdrawn (`token expired`, `revoked`, `step-up required`, the
   * upstream restarted, ...): what the agent must do next depends on it (refresh its token, sign
   * in again, call again). Warden's own words, or the agent's own cancel reason; bounded.
   */
  readonly withdrawnBecause?: string;
}

const MAX_NOTE = 500;

/** A short sentence the model and the user can read. Names rules and reason codes, never arguments. */
function describe(input: BlockResultInput): string {
  const d = input.decision;
  const rules = d && d.rules.length > 0 ? ` Rules: ${d.rules.join(', ')}.` : '';
  const reasons = d && d.reasons.length > 0 ? ` Risk: ${d.reasons.map((r) => r.code).join(', ')}.` : '';
  const score = d ? ` Score ${d.score}.` : '';
  const note = input.note ? ` Approver said: ${input.note.slice(0, MAX_NOTE)}` : '';
  const because = input.withdrawnBecause ? ` Withdrawn because: ${input.withdrawnBecause.slice(0, MAX_NOTE)}.` : '';
  const retry = input.retryAfterMs !== undefined ? ` Retry after ${Math.ceil(input.retryAfterMs / 1000)} s.` : '';
  const what = input.request === undefined || input.request === 'tools/call' ? 'tool call' : `${input.request} request`;
  const head: Record<BlockReasonCode, string> = {
    policy_block: `mcp-warden blocked this ${what} by policy.`,
    throttle_rejected: `mcp-warden is rate limiting this caller; the ${what} was not run.`,
    approval_denied: `A human approver denied this ${what}.`,
    approval_timeout: `No approver answered in time; the ${what} was denied.`,
    approval_withdrawn: `The approval request was withdrawn; the ${what} was not run.`,
    approval_unavailable: `Human approval is unavailable right now; the ${what} was denied.`,
    revoked: `Access was revoked by a security event or an operator; the ${what} was not run. Sign in again to get a new token.`,
    step_up_required: `A security event arrived while this ${what} waited and requires stronger sign-in for it; it was not run. Sign in again, or call again to ask a human.`,
    claims_changed: `The identity provider changed the caller's claims (groups, scopes) while this ${what} waited; it was not run. Call again to have it judged with the claims in force now.`,
    policy_changed: `The policy changed while this ${what} waited; it was not run. Call again to have it judged by the policy now in force.`,
    token_expired: `The caller's token expired while this ${what} waited; it was not run. Call again with a fresh token.`,
    definition_changed: `The tool server announced its definitions changed while this ${what} waited; it was not run. Call again to have it judged against what the server offers now.`,
    upstream_restarted: `The tool server restarted while this ${what} was judged; it was not run. Call again to have it judged against what the restarted server offers.`,
    internal: `mcp-warden could not evaluate this ${what} safely; it was not run.`,
  };
  return `${head[input.reason]}${because}${retry}${rules}${reasons}${score}${note} (call ${input.callId})`;
}

/**
 * Builds the `CallToolResult` warden answers with when it does not forward a call: `isError: true`,
 * a readable reason, and the decision under `_meta["dev.mcp-warden/decision"]`. One shape for policy
 * blocks, throttle rejections, denied/timed-out/withdrawn approvals and internal errors.
 */
export function buildBlockResult(input: BlockResultInput): Record<string, unknown> {
  const d = input.decision;
  const meta: DecisionMeta = {
    action: input.action ?? d?.enforced ?? 'block',
    reason: input.reason,
    callId: input.callId,
    ...(d ? { score: d.score, rules: [...d.rules], reasons: d.reasons.map((r) => r.code), policyHash: d.policyHash } : {}),
    ...(input.retryAfterMs !== undefined ? { retryAfterMs: Math.max(0, Math.ceil(input.retryAfterMs)) } : {}),
    ...(input.approvalId !== undefined ? { approvalId: input.approvalId } : {}),
    ...(input.approver !== undefined ? { approver: input.approver } : {}),
  };
  return {
    content: [{ type: 'text', text: describe(input) }],
    isError: true,
    _meta: { [DECISION_META_KEY]: meta },
  };
}

/** The verdict form of {@link buildBlockResult}. */
export function blockVerdict(input: BlockResultInput): GuardVerdict {
  return { kind: 'respond', result: buildBlockResult(input) };
}


/**
 * The error for a hidden or unknown tool. Identical for both, so an agent cannot tell a tool it
 * may not see from one that does not exist.
 */
export function buildUnknownToolError(exposedName: string): GuardVerdict & { kind: 'error' } {
  return { kind: 'error', code: UNKNOWN_TOOL_CODE, message: unknownToolMessage(exposedName) };
}
