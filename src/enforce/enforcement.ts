import type { AuditSink } from '../audit/audit-sink.js';
import type { Clock } from '../core/clock.js';
import type { Decision } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import type { GuardVerdict, ToolCallRequest } from '../core/tool-call.js';
import type { Logger } from '../logging/logger.js';
import type { StateStore } from '../state/state-store.js';
import { createApprovalManager, type ApprovalManager } from '../approval/approval-manager.js';
import { approvalRoutes } from '../approval/approval-routes.js';
import type { ApprovalsConfig } from '../approval/approvals-config.js';
import type { ApprovalDisplay } from '../approval/pending-record.js';
import type { HostedRoute } from '../control/hosted-route.js';
import { enforceDecision, type EnforceOptions } from './enforce-decision.js';
import type { ThrottleConfig } from './throttle-config.js';
import { createThrottler, type Throttler } from './throttler.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { Timers } from './timers.js';

export interface Enforcement {
  readonly throttler: Throttler;
  readonly approvals: ApprovalManager;
  /** Control-API routes for approvals and grants (host them with startControlServer). */
  readonly routes: HostedRoute[];
  /** At once for allow and block; a promise when the call waits (throttle, approval). */
  enforce(req: ToolCallRequest, decision: Decision, options?: EnforceOptions): MaybePromise<GuardVerdict>;
  /** Withdraws pending approvals (shutdown). */
  close(): void;
}

/**
 * Wires the throttler, the approval manager and their control routes from the `throttle:` and
 * `approvals:` config sections: one object the guard calls as `enforce(req, decision)`.
 */
export function createEnforcement(
  config: { readonly throttle: ThrottleConfig; readonly approvals: ApprovalsConfig },
  deps: {
    readonly audit: AuditSink;
    readonly store: StateStore;
    readonly logger: Logger;
    readonly clock?: Clock;
    readonly timers?: Timers;
    /** Whether a waiting call's principal is revoked now: its "allow and remember" remembers nothing. */
    readonly isRevoked?: (principal: Principal, sessionId: string) => boolean;
    /** The caller's standing in the security-event registry (see ApprovalManagerDeps.standingOf). */
    readonly standingOf?: (judgedAs: Principal, presented: Principal, sessionId: string) => string;
    /** The reasons shown to approvers (default: the decision's). */
    readonly display?: (req: ToolCallRequest, decision: Decision) => ApprovalDisplay;
  },
): Enforcement {
  const throttler = createThrottler(config.throttle, { ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.timers ? { timers: deps.timers } : {}) });
  const approvals = createApprovalManager(config.approvals, deps);
  return {
    throttler,
    approvals,
    routes: approvalRoutes(approvals, deps.clock ? { clock: deps.clock } : {}),
    enforce: (req, decision, options) =>
      enforceDecision(req, decision, { throttler, approvals, audit: deps.audit, logger: deps.logger, ...(deps.display ? { display: deps.display } : {}) }, options),
    close: () => approvals.close(),
  };
}
