import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import { auditEvent, principalSummary } from '../audit/events.js';
import type { Clock } from '../core/clock.js';
import type { Action, Decision } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import type { Guard, StandingOccasion, StandingSubscription, ToolCallRequest } from '../core/tool-call.js';
import { RESOURCE_SUBSCRIBE_TOOL, virtualToolDefinition } from '../core/virtual-tools.js';
import { evaluationVerdict } from '../events/registry-rules.js';
import type { Logger } from '../logging/logger.js';
import { applyFloor } from './apply-floor.js';
import type { DecisionEngine, SubjectGate } from './ports.js';
import { subjectVerdict } from './subject-verdict.js';
import { redactedUri } from './redacted-uri.js';

export interface StandingCheckDeps {
  readonly engine: DecisionEngine;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly subjects?: SubjectGate;
}

/** What a re-check found: keep it, end it, or (monitor mode) keep it but record that it would end. */
export type StandingOutcome = 'keep' | 'end' | 'would_end';

/**
 * Whether a decision ends a standing subscription. Throttle and allow keep it: a throttle delays
 * requests, and a standing subscription sends none. Block ends it, and so does approve: nobody is
 * asked (the agent asked nothing now), and what a human allowed was judged by the rules of its
 * time, so after a reload it goes, as pending approvals and remembered grants do. Before a restore
 * under the very policy it was judged by, an approve keeps it: that policy already had its way
 * with it (a human allowed it where the policy asked for one), and only a reload changes that.
 */
export function standingOutcome(decision: Pick<Decision, 'action' | 'enforced' | 'policyHash'>, occasion: StandingOccasion, judgedUnder: string | undefined): StandingOutcome {
  const samePolicy = occasion === 'upstream_restart' && judgedUnder !== undefined && decision.policyHash === judgedUnder;
  const ends = (a: Action): boolean => a === 'block' || (a === 'approve' && !samePolicy);
  if (ends(decision.enforced)) return 'end';
  return ends(decision.action) ? 'would_end' : 'keep';
}

/**
 * The guard's part in keeping standing subscriptions in step with risk: re-judging one (after a
 * reload, before a restore) and auditing the ones warden ends. A re-check counts nothing against
 * the agent (the engine's read-only `recheck`) and asks nobody; the caller's revocations and
 * step-ups apply as to a call. A fault ends the subscription (fail closed), recorded as a block.
 */
export function standingChecks(deps: StandingCheckDeps): Required<Pick<Guard, 'recheckSubscription' | 'subscriptionEnded' | 'subscriptionExpired'>> {
  /** Records; a failing sink is logged: the subscription ends all the same (the safe side), and the sink reports itself unhealthy. */
  function record(sub: StandingSubscription, build: (uri: string) => AuditEvent): void {
    try {
      // `uri` as an argument of the virtual tool is redacted in the audit (the policy's paths and patterns too).
      deps.audit.record(build(redactedUri(deps.engine, sub.uri)));
    } catch (err) {
      deps.logger.error({ err: String(err), sessionId: sub.sessionId, upstream: sub.upstream }, 'subscription.ended could not be recorded');
    }
  }

  function revoked(sub: StandingSubscription, principal: Principal, eventId: string): void {
    record(sub, (uri) => auditEvent('subscription.ended', {
      sessionId: sub.sessionId, principal: principalSummary(principal), upstream: sub.upstream, uri, reason: 'revoked', eventId, ended: true,
    }));
  }

  function rejudged(sub: StandingSubscription, principal: Principal, occasion: StandingOccasion, decision: Decision, ended: boolean): void {
    record(sub, (uri) => auditEvent('subscription.ended', {
      sessionId: sub.sessionId, principal: principalSummary(principal), upstream: sub.upstream, uri, reason: occasion, ended,
      action: decision.action, enforced: decision.enforced, mode: decision.mode, rules: decision.rules,
      codes: decision.reasons.map((r) => r.code), policyHash: decision.policyHash,
    }));
  }

  /** The policy in force, for the record of a re-check that failed. */
  function hashNow(): string {
    try {
      return deps.engine.policyHash?.() ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }

  return {
    async recheckSubscription(sub, occasion) {
      const now = deps.clock();
      let principal = sub.principal;
      let decision: Decision;
      // What the subscription was judged under; forgotten when a security reaction raised the
      // decision (a step-up came after it was made: the policy's earlier verdict does not answer it).
      let judgedUnder = sub.judgedUnder;
      try {
        principal = deps.subjects ? deps.subjects.effectivePrincipal(sub.principal, sub.sessionId, now) : sub.principal;
        const subject = subjectVerdict(deps.subjects, principal, sub.principal, sub.sessionId, now);
        if (subject.kind === 'revoked') {
          revoked(sub, principal, subject.eventId);
          return 'end';
        }
        // No engine that can re-judge without counting (a test guard): nothing to go by, it stands.
        if (!deps.engine.recheck) return 'keep';
        const base = await deps.engine.recheck(asRequest(sub, principal, now), now);
        // A step-up for the subscription's sensitivity asks for a human (or blocks), as for a call.
        const stepUp = evaluationVerdict(subject, base.sensitivity);
        const eventId = subject.kind === 'step_up' ? subject.eventId : '';
        decision = stepUp ? applyFloor(base, { action: stepUp.action, reasons: [stepUp.reason], rules: [`event:${eventId}`] }) : base;
        if (stepUp) judgedUnder = undefined;
      } catch (err) {
        deps.logger.error({ err: String(err), sessionId: sub.sessionId, upstream: sub.upstream }, 're-check of a standing subscription failed: it ends');
        decision = { action: 'block', enforced: 'block', mode: 'enforce', score: 100, sensitivity: 'critical', toolClass: 'unknown', reasons: [{ code: 'internal', weight: 100, detail: 're-check failed' }], rules: [], policyHash: hashNow() };
      }
      const outcome = standingOutcome(decision, occasion, judgedUnder);
      if (outcome === 'keep') return 'keep';
      rejudged(sub, principal, occasion, decision, outcome === 'end');
      return outcome === 'end' ? 'end' : 'keep';
    },
    subscriptionExpired(sub) {
      // Recorded as presented: an expired token's claims are not looked up again.
      record(sub, (uri) => auditEvent('subscription.ended', {
        sessionId: sub.sessionId, principal: principalSummary(sub.principal), upstream: sub.upstream, uri, reason: 'token_expired', ended: true,
      }));
    },
    subscriptionEnded(sub, eventId) {
      let principal = sub.principal;
      try {
        principal = deps.subjects ? deps.subjects.effectivePrincipal(sub.principal, sub.sessionId, deps.clock()) : sub.principal;
      } catch {
        // recorded as presented
      }
      revoked(sub, principal, eventId);
    },
  };
}

/** The request a `resources/subscribe` of the subscription would be judged as now. */
function asRequest(sub: StandingSubscription, principal: Principal, now: number): ToolCallRequest {
  return {
    callId: 'recheck', action: RESOURCE_SUBSCRIBE_TOOL, sessionId: sub.sessionId, principal, upstream: sub.upstream,
    tool: RESOURCE_SUBSCRIBE_TOOL, exposedName: RESOURCE_SUBSCRIBE_TOOL, arguments: { uri: sub.uri },
    toolDefinition: virtualToolDefinition(RESOURCE_SUBSCRIBE_TOOL), transport: sub.transport, remoteAddress: sub.remoteAddress,
    userAgent: sub.userAgent, clientInfo: sub.clientInfo, progressToken: undefined, receivedAt: now,
    signal: NEVER_ABORTED, sendProgress: undefined,
  };
}

const NEVER_ABORTED = new AbortController().signal;
