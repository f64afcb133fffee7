import type { Reason, Sensitivity } from '../core/decision.js';
import type { JudgedAction } from '../core/tool-call.js';

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
    /** The acting agent's issuer (`act.iss`), when named: the agent is (actorIssuer, actor). */
    readonly actorIssuer?: string | undefined;
    readonly priorActors: readonly string[];
    /** Issuers of priorActors, same order; null where none was named. */
    readonly priorActorIssuers?: readonly (string | null)[];
    readonly clientId: string | undefined;
  };
  /**
   * What waits: a tool call, or a resource read / prompt fetch / completion / subscription judged
   * as its virtual tool. The
   * approver must not take an upstream tool named like one (`resources／read`) for a read.
   * Absent on records from before it was added: a tool call.
   */
  readonly action?: JudgedAction;
  readonly upstream: string;
  readonly tool: string;
  readonly exposedName: string;
  /** digestOf(arguments): the approval is valid only for these exact arguments. */
  readonly argsDigest: string;
  /** decision.policyHash: the approval is valid only under this policy version. */
  readonly policyHash: string;
  readonly score: number;
  /**
   * decision.sensitivity: a step-up that blocks calls of this sensitivity withdraws the request
   * (the call could not run however it is answered). Absent on records from before it was added.
   */
  readonly sensitivity?: Sensitivity;
  readonly rules: readonly string[];
  readonly reasons: readonly Pick<Reason, 'code' | 'detail'>[];
  /**
   * The call's real argument values, as the upstream would receive them. Shown only to
   * authenticated approvers (control API, `warden approve`, `warden approvals show`): they decide
   * on this very call and must see what they allow (which payee, which recipient). Audit records
   * never carry them unredacted: `call.approval_requested` holds the digest only, `call.received`
   * the copy redacted by `audit.redact`.
   */
  readonly arguments: unknown;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * Whom a remembered grant covers. `principal` (the default): the same user acting through the same
 * agent (actor and prior actors, exactly as approved, and the same OAuth client). `user`: the same user through any agent,
 * only when the approver asks for it explicitly.
 */
export type GrantScope = 'principal' | 'user';

/** What the approver chose. */
export type ApprovalAnswer =
  | { readonly kind: 'allow_once' }
  | { readonly kind: 'deny'; readonly reason?: string }
  /**
   * Allow now and remember for `ttlMs` for this principal (or `scope: 'user'`) and tool; same
   * arguments only when `matchArguments` says so, or when it is left out and the request is judged
   * as a virtual tool (see grantMatchesArguments).
   */
  | { readonly kind: 'allow_remember'; readonly ttlMs: number; readonly matchArguments?: boolean; readonly scope?: GrantScope };

/** How one `request()` ended. Only the two `allowed*` kinds may forward the call. */
export type ApprovalOutcome =
  | { readonly kind: 'allowed'; readonly approvalId: string; readonly approver: ApproverIdentity; readonly grantId?: string }
  | { readonly kind: 'allowed_by_grant'; readonly grantId: string }
  | { readonly kind: 'denied'; readonly approvalId: string; readonly approver?: ApproverIdentity; readonly reason?: string; readonly code: 'denied' | 'unavailable' }
  | { readonly kind: 'timeout'; readonly approvalId: string }
  | { readonly kind: 'withdrawn'; readonly approvalId: string; readonly reason: string };

/**
 * A just-in-time grant: later calls to this tool by the approved principal (this user through
 * this agent; with `scope: 'user'`, this user through any agent) are allowed without asking.
 */
export interface Grant {
  readonly id: string;
  readonly issuer: string;
  readonly user: string;
  /** The acting agent the call was approved for (undefined: the user acted directly). */
  readonly actor: string | undefined;
  /** The acting agent's issuer (`act.iss`), when named; part of the agent's identity. */
  readonly actorIssuer?: string | undefined;
  /** Earlier actors of the approved call's delegation chain, newest first. */
  readonly priorActors: readonly string[];
  /** Issuers of priorActors, same order; null where none was named. */
  readonly priorActorIssuers?: readonly (string | null)[];
  /**
   * The OAuth client (`client_id`/`azp`) the approved call's token was issued to. A `principal`
   * grant covers this client only: an agent app holding the user's own token (no `act`) is known
   * by nothing else, and every agent app of the user would otherwise share its grants.
   */
  readonly clientId?: string | undefined;
  /** `principal`: only user + this exact actor chain (and client) match; `user`: any agent of the user. */
  readonly scope: GrantScope;
  readonly upstream: string;
  readonly tool: string;
  /** When set, only calls with this exact arguments digest match. */
  readonly argsDigest: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly createdBy: ApproverIdentity;
  /** The approval that created it. */
  readonly approvalId: string;
  /**
   * The policy version (decision.policyHash) the approval was given under. A grant answers only
   * decisions of that version: what a human approved was judged by those rules.
   */
  readonly policyHash: string;
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
