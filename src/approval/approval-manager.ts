import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import { digestOf } from '../core/canonical-json.js';
import type { Clock } from '../core/clock.js';
import type { Decision } from '../core/decision.js';
import { principalKey, userKey, type Principal } from '../core/principal.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import type { Logger } from '../logging/logger.js';
import type { StateStore } from '../state/state-store.js';
import { systemTimers, type Timers } from '../enforce/timers.js';
import type { ApprovalsConfig } from './approvals-config.js';
import type {
  AnswerResult,
  ApprovalAnswer,
  ApprovalEvent,
  ApprovalOutcome,
  ApproverIdentity,
  Grant,
  PendingApproval,
} from './approval-types.js';
import { grantArgumentsDigest, grantMatchesArguments } from './grant-arguments.js';
import { GrantStore } from './grant-store.js';
import { buildPendingRecord, newId, type ApprovalDisplay } from './pending-record.js';
import { WaiterTable } from './waiter-table.js';
import { JudgedStanding, type StandingOf } from './judged-standing.js';
import { PendingShares } from './pending-shares.js';
import { checkAnswer, type AnswerBinding } from './answer-checks.js';
import { warnIfAgentsGiveUpFirst, withdrawReason } from './agent-side.js';

export interface ApprovalManagerDeps {
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly audit: AuditSink;
  readonly store: StateStore;
  readonly logger: Logger;
  /**
   * Whether the principal of a waiting call is revoked now (the security-event registry). An
   * "allow and remember" for a revoked principal remembers nothing: the revocation already took
   * the subject's grants, and one made after it would let the identity's next token (issued after
   * the revocation, so accepted) skip the human. A throwing check counts as revoked.
   */
  readonly isRevoked?: (principal: Principal, sessionId: string) => boolean;
  /**
   * What the security-event registry holds for a caller now (SubjectRegistry.standingOf): read
   * when its call asks for a person (in the same tick the guard judged it) and again when the
   * answer is "allow and remember". Any difference (a revocation, step-up or claims change that
   * came after the call was judged, which the withdrawal can miss while the request is still being
   * registered) remembers nothing: the person allowed a call judged on a standing that no longer
   * holds. A throwing read counts as changed.
   */
  readonly standingOf?: StandingOf;
}

export interface ApprovalManager {
  /**
   * Holds the call until a grant matches (unless `options.grants` is false), a human answers, it
   * times out, or it is withdrawn. `options.validUntil` (ms): the caller's token ends then, and
   * with it any use of an answer; the request is withdrawn at that time if it comes first.
   */
  request(req: ToolCallRequest, decision: Decision, display: ApprovalDisplay, options?: ApprovalRequestOptions): Promise<ApprovalOutcome>;
  /** Answers a pending approval. Exactly one answer wins; the rest get `already_decided`. */
  answer(id: string, answer: ApprovalAnswer, approver: ApproverIdentity, binding?: AnswerBinding): Promise<AnswerResult>;
  listPending(): Promise<PendingApproval[]>;
  getPending(id: string): Promise<PendingApproval | undefined>;
  /** The live grant that would allow this call, decided under `policyHash`, without asking, if any. */
  findGrant(req: ToolCallRequest, policyHash: string): Promise<Grant | undefined>;
  listGrants(): Promise<Grant[]>;
  revokeGrant(id: string, by: ApproverIdentity | { kind: 'system'; id: string }, reason?: GrantRevokeReason): Promise<Grant | undefined>;
  /**
   * Revokes every grant made under another policy version than `policyHash` (after a reload that
   * changed the policy); returns how many.
   */
  retireGrantsNotUnder(policyHash: string): Promise<number>;
  /**
   * Revokes every grant `affected` picks, because its subject was revoked (warden revoke, a
   * security event): a token issued after the revocation must not find the old grant and skip the
   * human. Returns how many.
   */
  retireGrantsOfRevoked(affected: (grant: Grant) => boolean, eventId: string): Promise<number>;
  /**
   * Revokes every grant `affected` picks, because a token-claims-change replaced its subject's
   * claims: the person who remembered it saw a call judged with the claims the IdP has withdrawn.
   * Returns how many.
   */
  retireGrantsOfChangedClaims(affected: (grant: Grant) => boolean, eventId: string): Promise<number>;
  /**
   * Withdraws every pending approval matching `predicate` (e.g. a revoked session); returns how
   * many. The predicate also gets the waiting call's full principal (as it was judged), so a
   * security event can pick the calls of the tokens it covers, whatever their session runs as now.
   * A predicate that throws for a request withdraws it (fail closed), logged.
   */
  withdrawWhere(predicate: (p: PendingApproval, caller: Principal | undefined) => boolean, reason: string): number;
  /** Listens for requested / answered / timeout / withdrawn; returns an unsubscribe function. */
  subscribe(listener: (event: ApprovalEvent) => void): () => void;
  /** Withdraws everything still pending (shutdown). */
  close(): void;
}

/** How one request for a person is held (see {@link ApprovalManager.request}). */
export interface ApprovalRequestOptions {
  readonly grants?: boolean;
  readonly validUntil?: number;
  /** The caller's token as presented, before claim overrides (`req.principal` has them applied); default `req.principal`. */
  readonly presented?: Principal;
}

/** Why a grant was revoked, when not by a person: `policy_changed` after a reload. */
export type GrantRevokeReason = 'policy_changed' | 'subject_revoked' | 'claims_changed';

/** Who revokes grants when the policy changes: warden itself. */
const POLICY_RELOAD: { kind: 'system'; id: string } = { kind: 'system', id: 'policy-reload' };
/** Who revokes the grants of a revoked subject: warden itself. */
const REVOCATION: { kind: 'system'; id: string } = { kind: 'system', id: 'revocation' };
/** Who revokes the grants of a subject whose claims an event replaced: warden itself. */
const CLAIMS_CHANGE: { kind: 'system'; id: string } = { kind: 'system', id: 'claims-change' };

const PENDING = 'approval:pending:';
const DONE = 'approval:done:';

/** Creates the approval manager (see {@link ApprovalManager}). */
export function createApprovalManager(config: ApprovalsConfig, deps: ApprovalManagerDeps): ApprovalManager {
  const clock = deps.clock ?? ((): number => Date.now());
  const timers = deps.timers ?? systemTimers;
  const grants = new GrantStore(deps.store, config.maxGrants);
  const listeners = new Set<(event: ApprovalEvent) => void>();
  const waiters = new WaiterTable(timers);
  const doneTtl = config.timeoutMs + 600_000;
  warnIfAgentsGiveUpFirst(config.timeoutMs, deps.logger);

  const emit = (event: ApprovalEvent): void => {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        deps.logger.warn({ err }, 'approval listener failed');
      }
    }
  };

  /** Audit that must not turn an allow into a silent forward when the sink is down. */
  const audit = (event: AuditEvent): boolean => {
    try {
      deps.audit.record(event);
      return true;
    } catch (err) {
      deps.logger.error({ err, type: event.type }, 'audit record failed during approval');
      return false;
    }
  };

  /** Requests past the maxPending check whose waiter is not registered yet (they count as pending). */
  let registering = 0;

  /** Pending (or registering) requests per principal, for maxPendingPerPrincipal. */
  const shares = new PendingShares();
  /** The same per user (issuer + user), for maxPendingPerUser. */
  const userShares = new PendingShares();

  /** The full principal of each waiting call (the record keeps only what grants and display need). */
  const callers = new Map<string, Principal>();

  /** The caller's standing as each waiting call was judged ("allow and remember" compares it). */
  const judgedStanding = new JudgedStanding(deps.standingOf, deps.logger);

  /** Approvals claimed by an answer, timeout or withdrawal but not yet settled. */
  const claimed = new Set<string>();

  /**
   * Claims an approval for exactly one answer/timeout/withdrawal. Synchronous, so two racing
   * approvers cannot both win; the store marker only records it (409 for late answers).
   */
  const claim = (id: string, how: string): boolean => {
    if (claimed.has(id) || waiters.get(id) === undefined) return false;
    claimed.add(id);
    deps.store.setIfAbsent(DONE + id, { how, at: clock() }, doneTtl).catch((err: unknown) => deps.logger.warn({ err }, 'could not store approval decision marker'));
    return true;
  };

  /** Settles the live call. Never throws: a claimed approval must always resolve its waiter. */
  const settle = async (record: PendingApproval, outcome: ApprovalOutcome, event: ApprovalEvent): Promise<void> => {
    waiters.resolve(record.id, outcome);
    claimed.delete(record.id);
    callers.delete(record.id);
    judgedStanding.forget(record.id);
    tokenBound.delete(record.id);
    emit(event);
    await deps.store.delete(PENDING + record.id).catch((err: unknown) => deps.logger.warn({ err }, 'could not delete pending approval record'));
  };

  const expire = async (record: PendingApproval): Promise<void> => {
    if (!claim(record.id, 'timeout')) return;
    audit(auditEvent('call.approval_timeout', { callId: record.callId, sessionId: record.sessionId, approvalId: record.id, waitedMs: clock() - record.createdAt }));
    // Fail closed: no answer in time is a denial, never an allow.
    await settle(record, { kind: 'timeout', approvalId: record.id }, { type: 'timeout', approval: record });
  };

  /** Requests that end when their caller's token does, before timeoutMs (see request()). */
  const tokenBound = new Set<string>();

  /** The end of a request's wait: a timeout, or for a token-bound one a withdrawal. */
  const end = (record: PendingApproval): Promise<void> => (tokenBound.has(record.id) ? withdraw(record, 'token expired') : expire(record));

  const withdraw = async (record: PendingApproval, reason: string): Promise<void> => {
    if (!claim(record.id, 'withdrawn')) return;
    audit(auditEvent('call.approval_withdrawn', { callId: record.callId, sessionId: record.sessionId, approvalId: record.id, reason }));
    await settle(record, { kind: 'withdrawn', approvalId: record.id, reason }, { type: 'withdrawn', approval: record, reason });
  };

  /** Fail closed: a check that throws counts as revoked (remembering less is safe). */
  const revokedNow = (record: PendingApproval): boolean => {
    const who = callers.get(record.id);
    if (!deps.isRevoked || who === undefined) return false;
    try {
      return deps.isRevoked(who, record.sessionId);
    } catch {
      return true;
    }
  };

  const remember = async (record: PendingApproval, answer: ApprovalAnswer, approver: ApproverIdentity): Promise<Grant | undefined> => {
    if (answer.kind !== 'allow_remember') return undefined;
    if (revokedNow(record) || judgedStanding.changed(record.id, record.sessionId)) {
      // The call itself is refused by the guard's re-check (revoked, claims_changed, a step-up it
      // does not satisfy); the allow remembers nothing, or the caller's next token (issued after
      // the event, so accepted) would skip the human on a standing the event withdrew.
      deps.logger.warn({ approvalId: record.id }, 'caller revoked, stepped up or its claims changed while its call waited; allowing without remembering');
      return undefined;
    }
    const now = clock();
    const who = record.principal;
    const grant: Grant = {
      id: newId('grt'),
      issuer: who.issuer,
      user: who.user,
      actor: who.actor,
      ...(who.actorIssuer !== undefined ? { actorIssuer: who.actorIssuer } : {}),
      priorActors: [...who.priorActors],
      priorActorIssuers: who.priorActors.map((_, i) => who.priorActorIssuers?.[i] ?? null),
      ...(who.clientId !== undefined ? { clientId: who.clientId } : {}),
      scope: answer.scope ?? 'principal',
      upstream: record.upstream,
      tool: record.tool,
      argsDigest: grantMatchesArguments(record.action, answer.matchArguments) ? grantArgumentsDigest(record.action, record.arguments) : undefined,
      createdAt: now,
      expiresAt: now + Math.min(answer.ttlMs, config.maxGrantMs),
      createdBy: approver,
      approvalId: record.id,
      policyHash: record.policyHash,
    };
    if (!(await grants.add(grant, now))) {
      deps.logger.warn({ approvalId: record.id }, 'grant limit reached; allowing once without remembering');
      return undefined;
    }
    const { issuer, user, actor, actorIssuer, priorActors, priorActorIssuers, clientId, scope, upstream, tool, argsDigest, createdAt, expiresAt, createdBy, approvalId, policyHash } = grant;
    if (!audit(auditEvent('grant.created', { callId: record.callId, grantId: grant.id, approvalId, issuer, user, actor, actorIssuer, priorActors, priorActorIssuers: priorActorIssuers ?? [], clientId, scope, upstream, tool, argsDigest, createdAt, expiresAt, policyHash, by: createdBy.id, approver: createdBy }))) {
      // A grant missing from the audit trail must not allow later calls.
      await grants.remove(grant.id);
      return undefined;
    }
    return grant;
  };

  const outcomeOf = (record: PendingApproval, answer: ApprovalAnswer, approver: ApproverIdentity, grant: Grant | undefined, audited: boolean): ApprovalOutcome => {
    if (answer.kind === 'deny') return { kind: 'denied', code: 'denied', approvalId: record.id, approver, ...(answer.reason ? { reason: answer.reason } : {}) };
    // Fail closed: an allow we could not audit is not forwarded.
    if (!audited) return { kind: 'denied', code: 'unavailable', approvalId: record.id, approver };
    return { kind: 'allowed', approvalId: record.id, approver, ...(grant ? { grantId: grant.id } : {}) };
  };

  const revokeGrant = async (id: string, by: ApproverIdentity | { kind: 'system'; id: string }, reason?: GrantRevokeReason): Promise<Grant | undefined> => {
    const grant = await grants.remove(id);
    // `by` is the id (as on every other record), `approver` the full identity (admin, approver or system).
    if (grant) audit(auditEvent('grant.revoked', { grantId: id, user: grant.user, upstream: grant.upstream, tool: grant.tool, by: by.id, approver: by, reason }));
    return grant;
  };

  /** Revokes the live grants `pick` selects (a throwing pick selects: revoking more is safe). */
  const retireWhere = async (pick: (g: Grant) => boolean, by: { kind: 'system'; id: string }, reason: GrantRevokeReason): Promise<number> => {
    let retired = 0;
    for (const g of await grants.list(clock())) {
      let picked = true;
      try {
        picked = pick(g);
      } catch {
        picked = true;
      }
      if (picked && (await revokeGrant(g.id, by, reason))) retired += 1;
    }
    return retired;
  };

  return {
    async request(req, decision, display, options) {
      const argsDigest = digestOf(req.arguments);
      const who = req.principal;
      // Read before the first await: this is the tick the guard judged the call in, so a security
      // event landing from here on (while the request is still being registered too) shows as a change.
      const presented = options?.presented ?? who;
      const judged = judgedStanding.read(who, presented, req.sessionId);
      const grant = options?.grants === false ? undefined : await grants.find(who, req.upstream, req.tool, grantArgumentsDigest(req.action, req.arguments), decision.policyHash, clock());
      if (grant) {
        // No approval was requested for this call: `by`/`approver` are who created the grant.
        deps.audit.record(auditEvent('call.approval_answered', { callId: req.callId, sessionId: req.sessionId, approved: true, by: grant.createdBy.id, how: 'grant', outcome: 'allowed_by_grant', approver: grant.createdBy, grantId: grant.id }));
        return { kind: 'allowed_by_grant', grantId: grant.id };
      }
      const now = clock();
      // The caller's token may end before timeoutMs: past it no answer can forward the call (the
      // guard refuses it, token_expired), so the request ends then, withdrawn (`<` fails closed on NaN).
      const tokenLeft = options?.validUntil === undefined ? Infinity : Math.max(0, options.validUntil - now);
      const endsWithToken = !(config.timeoutMs <= tokenLeft);
      const waitMs = endsWithToken ? Math.floor(Number.isNaN(tokenLeft) ? 0 : tokenLeft) : config.timeoutMs;
      const record = buildPendingRecord(req, decision, display, argsDigest, now, waitMs);
      const owner = principalKey(who);
      const user = userKey(who);
      // The principal's own share is checked first, then its user's (over all their agents), so
      // neither one looping agent nor one user's many agents can use up the global one.
      const full =
        shares.count(owner) >= config.maxPendingPerPrincipal
          ? `more than ${config.maxPendingPerPrincipal} approvals pending for this principal`
          : userShares.count(user) >= config.maxPendingPerUser
            ? `more than ${config.maxPendingPerUser} approvals pending for this user`
            : waiters.size + registering >= config.maxPending
              ? `more than ${config.maxPending} approvals pending`
              : undefined;
      if (full !== undefined) {
        // Fail closed: a full queue denies rather than forwarding unasked.
        deps.audit.record(auditEvent('call.approval_answered', { callId: req.callId, sessionId: req.sessionId, approvalId: record.id, approved: false, by: 'warden', how: 'queue_full', outcome: 'unavailable', reason: full }));
        return { kind: 'denied', code: 'unavailable', approvalId: record.id };
      }
      // The place is taken now, before the awaits below: requests arriving together must not all
      // pass the check above while none is registered yet.
      registering += 1;
      shares.hold(owner);
      userShares.hold(user);
      try {
        deps.audit.record(auditEvent('call.approval_requested', { callId: req.callId, sessionId: req.sessionId, approvalId: record.id, argsDigest, policyHash: record.policyHash, expiresAt: record.expiresAt }));
        await deps.store.set(PENDING + record.id, record, doneTtl);
      } catch (err) {
        shares.letGo(owner);
        userShares.letGo(user);
        throw err;
      } finally {
        registering -= 1;
      }
      callers.set(record.id, who);
      judgedStanding.keep(record.id, judged);
      if (endsWithToken) tokenBound.add(record.id);
      const outcome = waiters.add(record, {
        timeoutMs: waitMs,
        progressIntervalMs: config.progressIntervalMs,
        clock,
        signal: req.signal,
        sendProgress: req.sendProgress,
        onTimeout: () => void end(record),
        onAbort: () => void withdraw(record, withdrawReason(req.signal)),
      });
      // Registered before the caller's reaction: the share is free again once the call is settled.
      void outcome.then(() => {
        shares.letGo(owner);
        userShares.letGo(user);
      });
      emit({ type: 'requested', approval: record });
      return outcome;
    },

    async answer(id, answer, approver, binding) {
      const record = waiters.get(id);
      if (!record) {
        const done = await deps.store.get(DONE + id);
        return done
          ? { ok: false, code: 'already_decided', message: 'this approval was already decided' }
          : { ok: false, code: 'not_found', message: 'no pending approval with this id' };
      }
      const refusal = checkAnswer(record, answer, approver, binding);
      if (refusal) return refusal;
      if (clock() >= record.expiresAt) {
        await end(record);
        return { ok: false, code: 'already_decided', message: 'this approval expired' };
      }
      if (!claim(id, answer.kind)) return { ok: false, code: 'already_decided', message: 'this approval was already decided' };
      let grant: Grant | undefined;
      try {
        grant = await remember(record, answer, approver);
      } catch (err) {
        // The call is still allowed once; only the remembering failed (state store down).
        deps.logger.error({ err, approvalId: id }, 'could not store grant');
      }
      // `approved`/`by`/`how` are what `warden audit show` prints; `outcome`/`approver` keep the detail.
      const audited = audit(auditEvent('call.approval_answered', { callId: record.callId, sessionId: record.sessionId, approvalId: id, approved: answer.kind !== 'deny', by: approver.id, how: 'control-api', outcome: answer.kind, approver, reason: answer.kind === 'deny' ? answer.reason : undefined, grantId: grant?.id }));
      if (!audited && grant) {
        // Fail closed: the allow is refused (outcomeOf), so its grant must not outlive it.
        await grants.remove(grant.id).catch((err: unknown) => deps.logger.error({ err, approvalId: id }, 'could not remove unaudited grant'));
        grant = undefined;
      }
      await settle(record, outcomeOf(record, answer, approver, grant, audited), { type: 'answered', approval: record, answer: answer.kind, approver });
      return { ok: true, approval: record, ...(grant ? { grant } : {}) };
    },

    listPending: async () => waiters.records(),
    getPending: async (id) => waiters.get(id),
    findGrant: (req, policyHash) => grants.find(req.principal, req.upstream, req.tool, grantArgumentsDigest(req.action, req.arguments), policyHash, clock()),
    listGrants: () => grants.list(clock()),
    revokeGrant,

    async retireGrantsNotUnder(policyHash) {
      const retired = await retireWhere((g) => g.policyHash !== policyHash, POLICY_RELOAD, 'policy_changed');
      if (retired > 0) deps.logger.warn({ retired, policyHash }, 'policy changed: remembered grants made under the previous policy were revoked');
      return retired;
    },

    async retireGrantsOfChangedClaims(affected, eventId) {
      const retired = await retireWhere(affected, CLAIMS_CHANGE, 'claims_changed');
      if (retired > 0) deps.logger.warn({ retired, eventId }, 'claims changed: the subject\'s remembered grants were revoked');
      return retired;
    },

    async retireGrantsOfRevoked(affected, eventId) {
      const retired = await retireWhere(affected, REVOCATION, 'subject_revoked');
      if (retired > 0) deps.logger.warn({ retired, eventId }, 'subject revoked: its remembered grants were revoked');
      return retired;
    },

    withdrawWhere(predicate, reason) {
      const matched = waiters.records().filter((r) => {
        try {
          return predicate(r, callers.get(r.id));
        } catch (err) {
          // Fail closed: a filter that cannot tell whether the event covers this call (a revocation,
          // a claims change) withdraws it, rather than leave a person to approve a call that may
          // not be allowed to run. The agent may call again and be judged afresh.
          deps.logger.error({ err, approvalId: r.id, reason }, 'withdrawal filter failed; withdrawing the request');
          return true;
        }
      });
      for (const r of matched) void withdraw(r, reason);
      return matched.length;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    close() {
      for (const r of waiters.records()) void withdraw(r, 'warden shutting down');
    },
  };
}
