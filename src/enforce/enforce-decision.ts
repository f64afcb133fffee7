import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Decision } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import { WardenError } from '../core/errors.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { GuardVerdict, ToolCallRequest, UpstreamOutcome } from '../core/tool-call.js';
import type { Logger } from '../logging/logger.js';
import type { ApprovalManager } from '../approval/approval-manager.js';
import type { ApprovalOutcome } from '../approval/approval-types.js';
import type { ApprovalDisplay } from '../approval/pending-record.js';
import { blockVerdict } from './block-result.js';
import type { Throttler } from './throttler.js';

/** How one call is enforced beyond its decision. */
export interface EnforceOptions {
  /**
   * Whether a remembered grant may answer an `approve` (default true). False when a security
   * reaction (a step-up, a changed or poisoned tool definition) raised the call to `approve`:
   * those happened after any grant was made, so a human must look at this call.
   */
  readonly grants?: boolean;
  /**
   * When (ms) the caller's token stops being accepted, if no later token can stand in for it (an
   * HTTP call stands on the token its request carried). An approval is useless after it (the call
   * is refused, token_expired): the request is withdrawn then, and shows that deadline.
   */
  readonly validUntil?: number;
  /**
   * The caller's token as presented, before claim overrides: what a security event may match on
   * besides the principal judged, when the approval manager compares the caller's standing.
   */
  readonly presented?: Principal;
}

export interface EnforceDeps {
  readonly throttler: Throttler;
  readonly approvals: ApprovalManager;
  readonly audit: AuditSink;
  readonly logger?: Logger;
  /** The reasons an approver is shown (default: the decision's own reasons). */
  readonly display?: (req: ToolCallRequest, decision: Decision) => ApprovalDisplay;
}

function approvalVerdict(req: ToolCallRequest, decision: Decision, outcome: ApprovalOutcome): GuardVerdict {
  switch (outcome.kind) {
    case 'allowed':
      return { kind: 'forward' };
    case 'allowed_by_grant':
      return { kind: 'forward', byGrant: true };
    case 'denied':
      return blockVerdict({
        callId: req.callId,
        request: req.action,
        decision,
        reason: outcome.code === 'unavailable' ? 'approval_unavailable' : 'approval_denied',
        approvalId: outcome.approvalId,
        ...(outcome.approver ? { approver: outcome.approver.id } : {}),
        ...(outcome.reason ? { note: outcome.reason } : {}),
      });
    case 'timeout':
      return blockVerdict({ callId: req.callId, request: req.action, decision, reason: 'approval_timeout', approvalId: outcome.approvalId });
    case 'withdrawn':
      return blockVerdict({ callId: req.callId, request: req.action, decision, reason: 'approval_withdrawn', approvalId: outcome.approvalId, withdrawnBecause: outcome.reason });
    default: {
      const never: never = outcome;
      throw new Error(`unknown approval outcome ${JSON.stringify(never)}`);
    }
  }
}

async function throttle(req: ToolCallRequest, decision: Decision, deps: EnforceDeps): Promise<GuardVerdict> {
  const got = await deps.throttler.acquire(req, decision);
  if (!got.ok) {
    deps.audit.record(auditEvent('call.throttle', { callId: req.callId, sessionId: req.sessionId, outcome: 'rejected', reason: got.reason, retryAfterMs: got.retryAfterMs }));
    return blockVerdict({ callId: req.callId, request: req.action, decision, reason: 'throttle_rejected', retryAfterMs: got.retryAfterMs });
  }
  try {
    deps.audit.record(auditEvent('call.throttle', { callId: req.callId, sessionId: req.sessionId, outcome: 'admitted', waitedMs: got.waitedMs }));
  } catch (err) {
    got.release(); // the slot must not leak when the audit refuses the call
    throw err;
  }
  // A cancelled call may still run upstream (an upstream that ignores the cancel): its slot stays
  // taken until it is done there, or cancel-and-call-again would run more at once than the limit.
  return { kind: 'forward', onOutcome: (outcome: UpstreamOutcome) => (outcome.settled ? void outcome.settled.then(got.release) : got.release()) };
}

/**
 * Enforces a decision for one call: allow → forward; block → block result; throttle → wait for the
 * throttler then forward (releasing on outcome) or reject with retry-after; approve → grant or human
 * answer, forward only on allow. Uses `decision.enforced` (monitor mode enforces `allow`).
 * Any fault (a throw now or a rejection later) becomes a block with reason `internal` (fail
 * closed), never a forward. Allow and block answer at once; throttle and approve return a promise.
 */
export function enforceDecision(req: ToolCallRequest, decision: Decision, deps: EnforceDeps, options: EnforceOptions = {}): MaybePromise<GuardVerdict> {
  const failed = (err: unknown): GuardVerdict => {
    // Fail closed: whatever went wrong, the call is not forwarded.
    deps.logger?.error({ err, callId: req.callId }, 'enforcement failed; blocking');
    try {
      // The trail says what became of the call (as the guard's catch-all does): without it, a
      // call whose approval was asked for ended at call.approval_requested, answered by nothing.
      deps.audit.record(auditEvent('call.error', { callId: req.callId, sessionId: req.sessionId, stage: 'enforce', code: err instanceof WardenError ? err.code : 'internal', message: err instanceof Error ? err.message : String(err) }));
    } catch {
      // The audit sink is the failure (or failing too): blocking is all that is left.
    }
    return blockVerdict({ callId: req.callId, request: req.action, decision, action: 'block', reason: 'internal' });
  };
  try {
    switch (decision.enforced) {
      case 'allow':
        return { kind: 'forward' };
      case 'block':
        return blockVerdict({ callId: req.callId, request: req.action, decision, reason: 'policy_block' });
      case 'throttle':
        return throttle(req, decision, deps).catch(failed);
      case 'approve': {
        const display = deps.display?.(req, decision) ?? { reasons: decision.reasons.map((r) => ({ code: r.code, detail: r.detail })) };
        return deps.approvals
          .request(req, decision, display, {
            grants: options.grants !== false,
            ...(options.validUntil !== undefined ? { validUntil: options.validUntil } : {}),
            ...(options.presented !== undefined ? { presented: options.presented } : {}),
          })
          .then((outcome) => approvalVerdict(req, decision, outcome))
          .catch(failed);
      }
      default: {
        const never: never = decision.enforced;
        throw new Error(`unknown action ${String(never)}`);
      }
    }
  } catch (err) {
    return failed(err);
  }
}
