import type { Reason } from '../core/decision.js';

/** Who answered an approval (from the control API caller). */
export interface ApproverIdentity {
  readonly kind: 'admin' | 'approver';
  readonly id: string;
}

/** The storable record of one pending approval, bound to exactly one call. */
export interface PendingApproval {
  readonly id: string;
  readonly callId: string;
  readonly sessionId: string;
  readonly principal: {
    readonly issuer: string;
    readonly user: string;
    readonly actor: string | undefined;
    readonly priorActors: readonly string[];
    readonly clientId: string | undefined;
  };
  readonly upstream: string;
  readonly tool: string;
  readonly exposedName: string;
  /** digestOf(arguments): the approval is valid only for these exact arguments. */
  readonly argsDigest: string;
  /** decision.policyHash: the approval is valid only under this policy version. */
  readonly policyHash: string;
  readonly score: number;
  readonly rules: readonly string[];
  readonly reasons: readonly Pick<Reason, 'code' | 'detail'>[];
  /** Arguments after redaction by policy; never the raw values. */
  readonly redactedArguments: unknown;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** What the approver chose. */
export type ApprovalAnswer =
  | { readonly kind: 'allow_once' }
  | { readonly kind: 'deny'; readonly reason?: string }
  /** Allow now and remember for `ttlMs` for this user and tool (optionally same args only). */
  | { readonly kind: 'allow_remember'; readonly ttlMs: number; readonly matchArguments: boolean };

/** How one `request()` ended. Only the two `allowed*` kinds may forward the call. */
export type ApprovalOutcome =
  | { readonly kind: 'allowed'; readonly approvalId: string; readonly approver: ApproverIdentity; readonly grantId?: string }
  | { readonly kind: 'allowed_by_grant'; readonly grantId: string }
  | { readonly kind: 'denied'; readonly approvalId: string; readonly approver?: ApproverIdentity; readonly reason?: string; readonly code: 'denied' | 'unavailable' }
  | { readonly kind: 'timeout'; readonly approvalId: string }
  | { readonly kind: 'withdrawn'; readonly approvalId: string; readonly reason: string };

/** A just-in-time grant: later calls by this user to this tool are allowed without asking. */
export interface Grant {
  readonly id: string;
  readonly issuer: string;
  readonly user: string;
  readonly upstream: string;
  readonly tool: string;
  /** When set, only calls with this exact arguments digest match. */
  readonly argsDigest: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly createdBy: ApproverIdentity;
  /** The approval that created it. */
  readonly approvalId: string;
}

/** Why an answer was refused. Stable codes; the control API maps them to HTTP statuses. */
export type AnswerRefusal =
  | 'not_found'
  | 'already_decided'
  | 'self_approval'
  | 'binding_mismatch'
  | 'invalid_answer';

export type AnswerResult =
  | { readonly ok: true; readonly approval: PendingApproval; readonly grant?: Grant }
  | { readonly ok: false; readonly code: AnswerRefusal; readonly message: string };

/** Events for listeners (the SSE stream, the CLI). */
export type ApprovalEvent =
  | { readonly type: 'requested'; readonly approval: PendingApproval }
  | { readonly type: 'answered'; readonly approval: PendingApproval; readonly answer: ApprovalAnswer['kind']; readonly approver: ApproverIdentity }
  | { readonly type: 'timeout'; readonly approval: PendingApproval }
  | { readonly type: 'withdrawn'; readonly approval: PendingApproval; readonly reason: string };
