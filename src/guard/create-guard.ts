import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import { recordAll } from '../audit/batch-audit.js';
import { boundedErrorMessage } from '../audit/bounded-message.js';
import { hiddenValues, maskEchoes } from '../audit/echoed-values.js';
import { auditEvent, decisionEvent, principalSummary, resultEvent, type PrincipalSummary } from '../audit/events.js';
import type { Clock } from '../core/clock.js';
import { listJudgedAgainst, type DefinitionList } from '../core/definition-lists.js';
import type { PendingApproval } from '../approval/approval-types.js';
import { blockedToolResult } from '../core/decision-meta.js';
import type { Decision } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import { WardenError } from '../core/errors.js';
import { andThen, isThenable, type MaybePromise } from '../core/maybe-promise.js';
import type { Guard, GuardVerdict, SessionInfo, ToolCallRequest, ToolDefinition, UpstreamOutcome } from '../core/tool-call.js';
import { isVirtualToolName } from '../core/virtual-tools.js';
import { buildUnknownToolError } from '../enforce/block-result.js';
import type { EvaluateResult } from '../events/registry-entry.js';
import { evaluationVerdict } from '../events/registry-rules.js';
import type { Logger } from '../logging/logger.js';
import { applyFloor, mergeFloors, type ActionFloor } from './apply-floor.js';
import { claimsChangedSince, refusalAfterWait, requestStanding, subjectVerdict } from './subject-verdict.js';
import { standingChecks } from './standing-check.js';
import { requestAsPrincipal } from './request-as-principal.js';
import { redactedUri } from './redacted-uri.js';
import { renewalStands } from '../core/token-renewal.js';
import type { DecisionEngine, Enforcer, PinGate, SessionTracker, SubjectGate } from './ports.js';
import type { EnforceOptions } from '../enforce/enforce-decision.js';

export interface GuardDeps {
  readonly engine: DecisionEngine;
  readonly enforcer: Enforcer;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly subjects?: SubjectGate;
  readonly pins?: PinGate;
  readonly sessions?: SessionTracker;
  /** A decision slower than this is treated as a fault and blocks (fail closed). */
  readonly decisionBudgetMs?: number;
  /**
   * How long past its `exp` the identity layer still accepts this principal's token (its issuer's
   * clock tolerance), in ms; default 0. A call that waited is refused once that has passed.
   */
  readonly tokenGraceMs?: (principal: Principal) => number;
  /** Withdraws the pending approvals `match` selects (see Guard.onDefinitionsChanged); returns how many. */
  readonly withdrawApprovals?: (match: (pending: PendingApproval) => boolean, reason: string) => number;
}

export interface GuardStats {
  internalErrors: number;
  decisions: number;
}

type Forward = Extract<GuardVerdict, { kind: 'forward' }>;

/**
 * Composes security events, pins, risk/policy and enforcement into the one hook the proxy calls
 * for every tools/call. Holds the only catch-all of the decision path, and it blocks.
 */
export function createGuard(deps: GuardDeps): Guard & { readonly stats: GuardStats } {
  const stats: GuardStats = { internalErrors: 0, decisions: 0 };
  const budgetMs = deps.decisionBudgetMs ?? 1_000;

  /**
   * The verdict at once when nothing waits (in-memory state, allow or block), else a promise.
   * A throw now and a rejection later end the same way: blocked, through failClosed.
   */
  function checkToolCall(req: ToolCallRequest): MaybePromise<GuardVerdict> {
    // The write-ahead steps of this call (received, risk, decision) are gathered here and written
    // together with one write(2) before anything is enforced; see flush().
    const pending: AuditEvent[] = [];
    try {
      const verdict = judge(req, pending);
      return isThenable(verdict) ? verdict.then(undefined, (err: unknown) => failClosed(req, err, pending)) : verdict;
    } catch (err) {
      return failClosed(req, err, pending);
    }
  }

  /** Writes the gathered steps (one write(2)); a failure propagates so the catch-all blocks the call. */
  function flush(pending: AuditEvent[]): void {
    const events = pending.splice(0, pending.length);
    recordAll(deps.audit, events);
  }

  function failClosed(req: ToolCallRequest, err: unknown, pending: readonly AuditEvent[] = []): GuardVerdict {
    stats.internalErrors += 1;
    const code = err instanceof WardenError ? err.code : 'internal';
    const message = err instanceof Error ? err.message : String(err);
    deps.logger.error({ callId: req.callId, code, err: message }, 'decision path failed: call blocked');
    try {
      // Steps gathered before the fault (e.g. call.received) still reach the log, ahead of the error.
      recordAll(deps.audit, [...pending, auditEvent('call.error', { callId: req.callId, sessionId: req.sessionId, stage: 'guard', code, message })]);
    } catch {
      // The audit sink is itself the failure (or also failing): blocking is all that is left.
    }
    const text =
      code === 'audit_unavailable'
        ? 'Blocked by mcp-warden: the audit trail is unavailable, so no call can be forwarded.'
        : 'Blocked by mcp-warden: an internal error occurred while judging this call.';
    return { kind: 'respond', result: blockedToolResult(code, req.callId, text) };
  }

  function judge(incoming: ToolCallRequest, pending: AuditEvent[]): MaybePromise<GuardVerdict> {
    const record = (event: AuditEvent): void => {
      pending.push(event);
    };
    const now = deps.clock();
    // Revocations find sessions (to withdraw their approvals) by the principal they run as now.
    deps.sessions?.updatePrincipal?.(incoming.sessionId, incoming.principal);
    // Claim overrides from token-claims-change events apply before anything looks at the principal.
    const principal = deps.subjects ? deps.subjects.effectivePrincipal(incoming.principal, incoming.sessionId, now) : incoming.principal;
    const req: ToolCallRequest = principal === incoming.principal ? incoming : requestAsPrincipal(incoming, principal);
    const who = principalSummary(principal);
    if (req.action === 'tools/call' ? isVirtualToolName(req.tool) : req.tool !== req.action) {
      // An upstream tool named like a virtual tool (`resources/read`) would be judged by the rules,
      // grants, counters and approvals written for reads (and a read by its pins): it is neither
      // listed nor called, answered as a tool that does not exist. A virtual call under another
      // name is a proxy bug: refused the same way (fail closed).
      record(auditEvent('call.decision', { callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', hidden: true, reason: 'virtual_tool_name', tool: req.tool, principal: who }));
      flush(pending);
      return buildUnknownToolError(req.exposedName);
    }
    // Hiding removes a tool from tools/list; a virtual tool is in no list, and a `hide` rule that
    // matches one is still a block rule, which the decision below applies (and audits) as such.
    if (req.action === 'tools/call' && deps.engine.isHidden(principal, req.upstream, req.tool)) {
      record(auditEvent('call.decision', { callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', hidden: true, tool: req.tool, principal: who }));
      flush(pending);
      return buildUnknownToolError(req.exposedName);
    }
    const args = encodeArgs(req.arguments);
    record(auditEvent('call.received', { callId: req.callId, sessionId: req.sessionId, principal: who, upstream: req.upstream, tool: req.tool, args: args.field, argsDigest: args.digest }));
    // A sink already known to be failing must refuse the call before anything counts it (it may
    // also recover on this write): the same order as writing each step on its own.
    if (!deps.audit.healthy()) flush(pending);

    if (principal !== incoming.principal) {
      // A security event changed who this caller is for decisions (claim overrides): say so per call.
      record(auditEvent('call.identity', { callId: req.callId, sessionId: req.sessionId, ok: true, principal: who, reason: 'claims_override' }));
    }
    const subject = subjectNow(principal, incoming.principal, req.sessionId, now);
    if (subject.kind === 'revoked') return revokedRefusal(req, subject.eventId, who, pending);

    const base = timedDecision(req, now);
    if (!isThenable(base)) return decided(req, base, subject, who, pending, incoming.principal);
    // A decision that awaited its state (a shared store) took a moment, and the subject's standing
    // may have changed meanwhile: read again, or an allow is forwarded at once, unchecked, for a
    // token revoked (claims replaced, stepped up) during the decision.
    return base.then((decision) => {
      const after = subjectNow(principal, incoming.principal, req.sessionId, deps.clock());
      if (after.kind === 'revoked') return revokedRefusal(req, after.eventId, who, pending);
      if (claimsChangedSince(deps.subjects, principal, incoming.principal, req.sessionId, deps.clock())) return refusal(req, 'claims_changed', who, pending);
      return decided(req, decision, after, who, pending, incoming.principal);
    });
  }

  /** The refusal of a call whose subject is revoked, audited as an identity failure and a block. */
  function revokedRefusal(req: ToolCallRequest, eventId: string, who: PrincipalSummary, pending: AuditEvent[]): GuardVerdict {
    pending.push(auditEvent('call.identity', { callId: req.callId, sessionId: req.sessionId, ok: false, principal: who, reason: 'revoked' }));
    pending.push(auditEvent('call.decision', { callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', reason: 'revoked', eventId, tool: req.tool, principal: who }));
    flush(pending);
    return { kind: 'respond', result: deps.enforcer.blockResult(req, 'revoked') };
  }

  function subjectNow(effective: Principal, presented: Principal, sessionId: string, now: number): EvaluateResult {
    return subjectVerdict(deps.subjects, effective, presented, sessionId, now);
  }

  /** The engine's decision is in: floors, the write-ahead records, then enforcement. */
  function decided(req: ToolCallRequest, base: Decision, subject: EvaluateResult, who: PrincipalSummary, pending: AuditEvent[], presented: Principal): MaybePromise<GuardVerdict> {
    const stepUp = evaluationVerdict(subject, base.sensitivity);
    const stepUpFloor: ActionFloor | undefined = stepUp ? { action: stepUp.action, reasons: [stepUp.reason], rules: [`event:${subject.kind === 'step_up' ? subject.eventId : ''}`] } : undefined;
    const floor = mergeFloors(pinFloor(req), stepUpFloor);
    const decision = applyFloor(base, floor);
    stats.decisions += 1;
    pending.push(auditEvent('call.risk', { callId: req.callId, sessionId: req.sessionId, score: decision.score, reasons: decision.reasons, sensitivity: decision.sensitivity }));
    // Write-ahead: the decision record is on disk (write(2) done) before anything is enforced;
    // received, risk and decision go out together in that one write. An allow has nothing to
    // enforce but the forward itself: its steps wait for call.forwarded and all four go out in one
    // write, still before the call is forwarded (throttle, approve and block write theirs first).
    pending.push(decisionEvent(req.callId, req.sessionId, decision, { tool: req.tool, principal: who }));
    if (decision.enforced !== 'allow') flush(pending);
    deps.sessions?.recordCall(req.sessionId, decision.score, decision.enforced, req.receivedAt);

    // A security reaction that asks for a human (step-up, changed or poisoned definition) came
    // after any remembered grant: the grant must not answer for it.
    const enforced = deps.enforcer.enforce(req, decision, decision.enforced === 'approve' ? approvalOptions(req, presented, floor) : undefined);
    const waited = isThenable(enforced);
    return andThen(enforced, (verdict) => {
      if (verdict.kind === 'forward') {
        // A call that waited (throttle queue, a human's answer) is checked again: the subject may
        // have been revoked meanwhile, and the revocation's withdrawal can miss it (a stdio session
        // stays open; withdrawal finds calls by the principal their session runs as now, which may
        // be a newer token).
        if (!waited) return forwardWithAudit(req, verdict, pending, who);
        return andThen(changedMeanwhile(req, decision, verdict, who, pending, presented), (refused) => refused ?? forwardWithAudit(req, verdict, pending, who));
      }
      flush(pending);
      return verdict;
    });
  }

  /**
   * How a request for a person is held: without grants when a security reaction asked for it, and
   * ending when the caller's token does where no later token can stand in (HTTP: the call stands
   * on the token its request carried; tokenExpiredMeanwhile would refuse it after any answer).
   * The token as presented goes along: an "allow and remember" compares the caller's standing
   * then with its standing when judged, found by what events match on, overrides or not.
   */
  function approvalOptions(req: ToolCallRequest, presented: Principal, floor: ActionFloor | undefined): EnforceOptions {
    const exp = presented.expiresAt;
    const validUntil = req.currentPrincipal === undefined && exp !== undefined ? exp * 1000 + (deps.tokenGraceMs?.(presented) ?? 0) : undefined;
    return { ...(floor?.action === 'approve' ? { grants: false } : {}), ...(validUntil !== undefined ? { validUntil } : {}), presented };
  }

  /**
   * The block for a waited-for forward whose subject changed while it waited: revoked, or a
   * step-up arrived that this call does not satisfy (a blocking one, or one asking for a human
   * when no human approved this call); or whose policy was replaced meanwhile (the operator may
   * have reloaded to stop exactly this call). Releases what the verdict holds.
   */
  function changedMeanwhile(req: ToolCallRequest, decision: Decision, verdict: Forward, who: PrincipalSummary, pending: AuditEvent[], presented: Principal): MaybePromise<GuardVerdict | undefined> {
    const release = (): void => releaseForward(verdict);
    let subject: EvaluateResult;
    try {
      subject = subjectNow(req.principal, presented, req.sessionId, deps.clock());
    } catch (err) {
      release(); // the catch-all blocks the call: the slot it holds must not leak
      throw err;
    }
    const reason = refusalAfterWait(subject, decision, verdict.byGrant === true);
    if (reason === undefined || subject.kind === 'ok') {
      const claimsChanged = claimsChangedMeanwhile(req, presented, who, pending, release);
      if (claimsChanged) return claimsChanged;
      return andThen(tokenExpiredMeanwhile(req, presented, who, pending, release), (refused) => refused ?? policyChangedMeanwhile(req, decision, who, pending, release) ?? definitionChangedMeanwhile(req, who, pending, release));
    }
    // Release whatever the enforcer holds (a throttle slot): the call will not run.
    release();
    if (reason === 'revoked') pending.push(auditEvent('call.identity', { callId: req.callId, sessionId: req.sessionId, ok: false, principal: who, reason: 'revoked' }));
    pending.push(auditEvent('call.decision', { callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', reason, eventId: subject.eventId, tool: req.tool, principal: who }));
    flush(pending);
    return { kind: 'respond', result: deps.enforcer.blockResult(req, reason) };
  }

  /**
   * A waited-for call judged with claims a token-claims-change has replaced meanwhile is refused
   * (claimsChangedSince): the agent may call again, and is judged with the claims it has now.
   */
  function claimsChangedMeanwhile(req: ToolCallRequest, presented: Principal, who: PrincipalSummary, pending: AuditEvent[], release: () => void): GuardVerdict | undefined {
    return refusedIf(() => claimsChangedSince(deps.subjects, req.principal, presented, req.sessionId, deps.clock()), req, 'claims_changed', who, pending, release);
  }

  /**
   * A waited-for call whose token expired meanwhile is refused: an HTTP call is authenticated once,
   * when it arrives, and an approval can take up to an hour; forwarding it on an approver's "allow"
   * would let a token act after its `exp` (a stolen short-lived token, one the IdP stopped
   * renewing). The token as presented is judged; the agent calls again with a fresh one. Over
   * stdio the agent presents no token per call (warden's token file is refreshed beside it): there
   * the token in force now stands in, if it is valid, not revoked, and the same caller's (same
   * issuer, user and actor), or every approval slower than the token's lifetime would be refused.
   */
  function tokenExpiredMeanwhile(req: ToolCallRequest, presented: Principal, who: PrincipalSummary, pending: AuditEvent[], release: () => void): MaybePromise<GuardVerdict | undefined> {
    let valid: boolean;
    try {
      valid = validNow(presented);
    } catch (err) {
      release(); // the catch-all blocks the call: the slot it holds must not leak
      throw err;
    }
    if (valid) return undefined;
    return andThen(tokenInForce(req), (current) => {
      if (renewalStands(presented, current, validNow, (p) => requestStanding(deps.subjects, p, req.sessionId, deps.clock()) === undefined)) return undefined;
      release();
      pending.push(auditEvent('call.identity', { callId: req.callId, sessionId: req.sessionId, ok: false, principal: who, reason: 'token_expired' }));
      pending.push(auditEvent('call.decision', { callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', reason: 'token_expired', tool: req.tool, principal: who }));
      flush(pending);
      return { kind: 'respond', result: deps.enforcer.blockResult(req, 'token_expired') };
    });
  }

  /** True while `p`'s token is accepted (its `exp` plus its issuer's tolerance); no `exp`: true. */
  function validNow(p: Principal): boolean {
    const exp = p.expiresAt;
    if (exp === undefined) return true;
    // `<` fails closed on NaN: an expiry that cannot be compared is not valid.
    return deps.clock() < exp * 1000 + (deps.tokenGraceMs?.(p) ?? 0);
  }

  /** Stdio: the principal of the process token now; undefined over HTTP, or when it cannot be had. */
  function tokenInForce(req: ToolCallRequest): MaybePromise<Principal | undefined> {
    if (req.currentPrincipal === undefined) return undefined;
    try {
      const current = req.currentPrincipal();
      return isThenable(current) ? Promise.resolve(current as PromiseLike<Principal | undefined>).catch(() => undefined) : current;
    } catch {
      return undefined;
    }
  }

  /**
   * A waited-for call decided under a policy that is no longer in force is refused, not forwarded
   * on its old decision: a reload that blocks a tool must stop the calls queued for it too
   * (pending approvals are withdrawn on reload for the same reason). The agent may call again.
   */
  function policyChangedMeanwhile(req: ToolCallRequest, decision: Decision, who: PrincipalSummary, pending: AuditEvent[], release: () => void): GuardVerdict | undefined {
    let now: string | undefined;
    try {
      now = deps.engine.policyHash?.();
    } catch (err) {
      release(); // the catch-all blocks the call: the slot it holds must not leak
      throw err;
    }
    if (now === undefined || now === decision.policyHash) return undefined;
    release();
    pending.push(auditEvent('call.decision', { callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', reason: 'policy_changed', policyHash: now, tool: req.tool, principal: who }));
    flush(pending);
    return { kind: 'respond', result: deps.enforcer.blockResult(req, 'policy_changed') };
  }

  /**
   * A waited-for call whose upstream announced its definitions changed meanwhile (the list of its
   * tool, prompt or resource template) is refused: a person approved it as the definition stood,
   * and an upstream can time a rewrite for the wait (a rug pull). Calling again looks the
   * definition up afresh, through the pins, and is judged again.
   */
  function definitionChangedMeanwhile(req: ToolCallRequest, who: PrincipalSummary, pending: AuditEvent[], release: () => void): GuardVerdict | undefined {
    return refusedIf(() => req.definitionsChanged?.() === true, req, 'definition_changed', who, pending, release);
  }

  /**
   * The block for a forward whose upstream was replaced since the call was looked up (a crashed
   * child restarted, a new HTTP session), waited or not (authenticating can await too): the new
   * process may offer another tool under the name this call was judged and perhaps approved by,
   * which neither its listing nor the pins have seen. Checked here, before `call.forwarded` is
   * written, so the trail never says a call went out that did not. Calling again looks the
   * definition up afresh. Releases what the verdict holds.
   */
  function upstreamRestartedMeanwhile(req: ToolCallRequest, verdict: Forward, pending: AuditEvent[], who: PrincipalSummary): GuardVerdict | undefined {
    // Every forward passes here: the check is made in place, no closure unless it refuses.
    let restarted: boolean;
    try {
      restarted = req.upstreamRestarted?.() === true;
    } catch (err) {
      releaseForward(verdict); // the catch-all blocks the call: the slot it holds must not leak
      throw err;
    }
    if (!restarted) return undefined;
    releaseForward(verdict);
    return refusal(req, 'upstream_restarted', who, pending);
  }

  /**
   * The block for `reason` when `check` says so (audited, what the verdict holds released);
   * undefined when it says no. A check that throws releases what the verdict holds and throws on
   * to the catch-all, which blocks.
   */
  function refusedIf(check: () => boolean, req: ToolCallRequest, reason: 'claims_changed' | 'definition_changed', who: PrincipalSummary, pending: AuditEvent[], release: () => void): GuardVerdict | undefined {
    let refused: boolean;
    try {
      refused = check();
    } catch (err) {
      release(); // the catch-all blocks the call: the slot it holds must not leak
      throw err;
    }
    if (!refused) return undefined;
    release();
    return refusal(req, reason, who, pending);
  }

  /** Audits a forward refused after all for `reason` (what it held is released already) and answers it blocked. */
  function refusal(req: ToolCallRequest, reason: 'claims_changed' | 'definition_changed' | 'upstream_restarted', who: PrincipalSummary, pending: AuditEvent[]): GuardVerdict {
    pending.push(auditEvent('call.decision', { callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', reason, tool: req.tool, principal: who }));
    flush(pending);
    return { kind: 'respond', result: deps.enforcer.blockResult(req, reason) };
  }

  /** The arguments' audit field and digest: in one walk when the engine offers it. */
  function encodeArgs(value: unknown): { readonly field: unknown; readonly digest: string } {
    if (deps.engine.encodeArgs) return deps.engine.encodeArgs(value);
    const r = deps.engine.redact(value);
    return { field: r.redacted, digest: r.digest };
  }

  function timedDecision(req: ToolCallRequest, now: number): MaybePromise<Decision> {
    const started = process.hrtime.bigint();
    return andThen(deps.engine.decide(req, now), (decision) => {
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (elapsedMs > budgetMs) {
        // A decision that blew its budget is not trusted: the engine may be under attack (pathological input).
        throw new WardenError('decision_budget_exceeded', `decision took ${elapsedMs.toFixed(1)} ms (budget ${budgetMs} ms)`);
      }
      return decision;
    });
  }

  /**
   * Pinned-definition holds and poisoned descriptions. A description that tries to instruct the
   * model raises the call to at least `approve`: a human must look before it runs.
   */
  function pinFloor(req: ToolCallRequest): ActionFloor | undefined {
    // A virtual tool has no listed definition to pin (the pins would hold it as never seen, or
    // judge it by an upstream tool of the same name); the template pins judged the read before.
    if (!deps.pins || req.action !== 'tools/call') return undefined;
    const held = deps.pins.verdict(req.upstream, req.tool);
    const poisoned = deps.pins.risk(req.upstream, req.tool);
    const heldFloor: ActionFloor = { action: held.action, reasons: held.reasons, rules: held.action === 'allow' ? [] : ['pins'] };
    const poisonFloor: ActionFloor | undefined = poisoned.length > 0 ? { action: 'approve', reasons: poisoned, rules: ['pins:description'] } : undefined;
    return mergeFloors(heldFloor, poisonFloor);
  }

  function forwardWithAudit(req: ToolCallRequest, verdict: Forward, pending: AuditEvent[], who: PrincipalSummary): GuardVerdict {
    const restarted = upstreamRestartedMeanwhile(req, verdict, pending, who);
    if (restarted) return restarted;
    try {
      // Write-ahead: this record (with any steps still gathered) is on disk before the proxy forwards the call.
      pending.push(auditEvent('call.forwarded', { callId: req.callId, sessionId: req.sessionId, upstream: req.upstream, tool: req.tool }));
      flush(pending);
    } catch (err) {
      // Release whatever the enforcer holds (a throttle slot) before failing closed.
      releaseForward(verdict);
      throw err;
    }
    return {
      kind: 'forward',
      onOutcome: (outcome: UpstreamOutcome) => {
        verdict.onOutcome?.(outcome);
        recordOutcome(req, outcome);
      },
    };
  }

  /**
   * An upstream's JSON-RPC error message often repeats what it was sent ("unknown payee DE89…"):
   * it gets the redaction the call's arguments get (the policy's paths and patterns too), not only
   * the sink's own rules, which know nothing of the policy's. Patterns find secrets by their
   * shape; a value hidden by its key path (`password`, `card.number`) has no shape, so its literal
   * echoes are masked first (echoed-values.ts). What is left is cut to a bound (bounded-message.ts).
   */
  function withRedactedError(req: ToolCallRequest, outcome: UpstreamOutcome): UpstreamOutcome {
    if (!outcome.error) return outcome;
    let message: unknown;
    try {
      const hidden = hiddenValues(req.arguments, deps.engine.redact(req.arguments).redacted);
      message = (deps.engine.redact({ message: maskEchoes(outcome.error.message, hidden) }).redacted as { message?: unknown }).message;
    } catch {
      message = undefined; // a redaction fault must not leave the message in clear, nor lose the record
    }
    return { ...outcome, error: { code: outcome.error.code, message: typeof message === 'string' ? boundedErrorMessage(message) : '[REDACTED]' } };
  }

  function recordOutcome(req: ToolCallRequest, outcome: UpstreamOutcome): void {
    try {
      deps.audit.record(resultEvent(req.callId, req.sessionId, withRedactedError(req, outcome)));
    } catch (err) {
      // The call already happened; the failed write leaves the sink unhealthy, which blocks the next call.
      deps.logger.error({ callId: req.callId, err }, 'could not record call result');
    }
    void deps.engine.observeOutcome(req, outcome, deps.clock());
  }

  /** Records a lifecycle event; failures are logged (no call to block), and the sink reports unhealthy. */
  function recordLifecycle(event: AuditEvent): void {
    try {
      deps.audit.record(event);
    } catch (err) {
      deps.logger.error({ err, type: event.type }, 'audit record failed');
    }
  }

  const standing = standingChecks(deps);
  return {
    stats,
    checkToolCall,
    // Standing subscriptions follow risk changes (reloads, restarts, revocations): standing-check.ts.
    recheckSubscription: standing.recheckSubscription,
    subscriptionEnded: standing.subscriptionEnded,
    subscriptionExpired: standing.subscriptionExpired,
    tokenValid: validNow,
    policyHash: () => deps.engine.policyHash?.(),
    requestStanding(principal: Principal, sessionId: string) {
      const refused = requestStanding(deps.subjects, principal, sessionId, deps.clock());
      // Audited as HTTP audits a revoked token's request; a failing sink throws, which refuses it.
      if (refused) deps.audit.record(auditEvent('identity.failed', { reason: refused, transport: 'stdio' }));
      return refused;
    },
    // Pins: a changed, new or poisoned definition nobody accepted never reaches the model.
    isToolVisible: (principal, _sessionId, upstream, tool) => !isVirtualToolName(tool) && !deps.engine.isHidden(principal, upstream, tool) && (deps.pins?.listing(upstream, tool).listed ?? true),
    onToolsListed(upstream: string, tools: readonly ToolDefinition[], page?: { readonly first: boolean; readonly last: boolean }) {
      deps.pins?.observe(upstream, tools, page);
    },
    // Prompts and resource templates reach the model too: pinned and withheld like tools.
    onDefinitionsListed(kind, upstream, defs, page) {
      deps.pins?.observe(upstream, defs, page, kind);
    },
    definitionListing: (kind, upstream, name) => deps.pins?.listing(upstream, name, kind) ?? { listed: true },
    auditedUri: (uri: string) => redactedUri(deps.engine, uri),
    onSessionOpened(info: SessionInfo) {
      deps.sessions?.opened(info);
      recordLifecycle(auditEvent('session.opened', { sessionId: info.sessionId, principal: principalSummary(info.principal), transport: info.transport, ...(info.remoteAddress ? { remoteAddress: info.remoteAddress } : {}), ...(info.userAgent ? { userAgent: info.userAgent } : {}) }));
    },
    onDefinitionsChanged(sessionId: string, upstream: string, list: DefinitionList, seen?: 'announced' | 'listed') {
      // The after-wait check (definitionChangedMeanwhile) would refuse the call anyway: withdrawn
      // now, the person is not asked to approve a definition that is gone, and the agent hears at once.
      deps.withdrawApprovals?.(
        (p) => p.sessionId === sessionId && p.upstream === upstream && listJudgedAgainst(p.action ?? 'tools/call', p.arguments) === list,
        seen === 'listed' ? `listing the upstream again showed its ${list} changed` : `the upstream announced its ${list} changed`,
      );
    },
    onUpstreamRestarted(sessionId: string, upstream: string) {
      // The forward would be refused (upstreamRestartedMeanwhile): nobody is asked to allow it.
      deps.withdrawApprovals?.((p) => p.sessionId === sessionId && p.upstream === upstream, 'the upstream restarted');
    },
    onSessionClosed(info: SessionInfo, reason: string) {
      deps.sessions?.closed(info.sessionId);
      deps.engine.forgetSession?.(info.sessionId);
      recordLifecycle(auditEvent('session.closed', { sessionId: info.sessionId, principal: principalSummary(info.principal), reason }));
    },
  };
}

/** The outcome of a forward that will not happen: a frozen constant, shared by every refusal. */
const NOT_FORWARDED: UpstreamOutcome = Object.freeze({ status: 'cancelled', durationMs: 0, resultBytes: 0, resultItems: 0, result: undefined });

/** Gives back what a forward verdict holds (a throttle slot) when the call will not run. */
function releaseForward(verdict: Forward): void {
  verdict.onOutcome?.(NOT_FORWARDED);
}
