import { fullDigest } from './redactor.js';
import { actorIds, type Principal } from '../core/principal.js';
import type { Action, Decision, DecisionMode, Reason } from '../core/decision.js';
import type { UpstreamOutcome } from '../core/tool-call.js';
import type { UpstreamErrorFields } from '../core/upstream-error.js';
import type { SubjectMatch } from '../events/subject.js';
import type { RestartNote } from './active-file.js';
import type { AuditEvent, AuditEventType } from './audit-sink.js';
import { sealForAudit } from './sealed-value.js';

/** Who acted, as recorded in `principal` fields (see principalSummary). */
export interface PrincipalSummary {
  readonly issuer: string;
  readonly user: string;
  readonly actor: string | null;
  /** The full actor chain, current actor first, then prior actors (RFC 8693 nested `act`). */
  readonly actorChain: readonly string[];
  /** The current actor's issuer (`act.iss`), null when the token names none. */
  readonly actorIssuer: string | null;
  /** Issuers of actorChain, same order, null where none was named: an actor is (iss, sub). */
  readonly actorChainIssuers: readonly (string | null)[];
  readonly clientId: string | null;
  readonly scopes: readonly string[];
  readonly idpSessionId: string | null;
  readonly tokenId: string | null;
  readonly anonymous: boolean;
}

const summaries = new WeakMap<Principal, PrincipalSummary>();

/**
 * What an audit record says about who acted. Never includes the token itself. For a frozen
 * principal (what identity produces) the summary is built once, sealed (deeply frozen) and reused,
 * so the sink serializes it once per principal instead of twice per call.
 */
export function principalSummary(p: Principal): PrincipalSummary {
  const issuersFrozen = p.priorActorIssuers === undefined || Object.isFrozen(p.priorActorIssuers);
  if (!Object.isFrozen(p) || !Object.isFrozen(p.priorActors) || !issuersFrozen || !Object.isFrozen(p.scopes)) return buildSummary(p);
  let s = summaries.get(p);
  if (s === undefined) {
    s = sealForAudit(buildSummary(p));
    summaries.set(p, s);
  }
  return s;
}

function buildSummary(p: Principal): PrincipalSummary {
  return {
    issuer: p.issuer,
    user: p.user,
    actor: p.actor ?? null,
    actorChain: [...(p.actor ? [p.actor] : []), ...p.priorActors],
    actorIssuer: p.actorIssuer ?? null,
    actorChainIssuers: actorIds(p).map((a) => a.iss),
    clientId: p.clientId ?? null,
    scopes: [...p.scopes],
    idpSessionId: p.sessionId ?? null,
    tokenId: p.tokenId ?? null,
    anonymous: p.anonymous,
  };
}

interface CallBase {
  readonly callId: string;
  readonly sessionId?: string;
}

/** Who acted on an approval or grant: `kind` is `admin`, `approver` or `system`. */
export interface ApproverSummary {
  readonly kind: string;
  readonly id: string;
}

/** `call.decision` written after the policy ran (the write-ahead decision record). */
export interface PolicyDecisionFields {
  action: Action; enforced: Action; mode: DecisionMode; score: number; rules: readonly string[]; policyHash: string;
  reasons: readonly Reason[]; tool?: string; principal?: PrincipalSummary;
}
/** `call.decision` for a tool hidden from this principal: blocked from the hide list before any rule runs. */
export interface HiddenDecisionFields {
  action: 'block'; enforced: 'block'; hidden: true; tool: string; principal: PrincipalSummary;
  /** `virtual_tool_name`: an upstream tool named like a virtual tool (`resources/read`), never called. */
  reason?: 'virtual_tool_name';
}
/**
 * `call.decision` for a revoked subject (blocked before any rule runs), or for a call a step-up
 * arrived for while it waited (`step_up_required`); `eventId` names the event.
 */
export interface RevokedDecisionFields { action: 'block'; enforced: 'block'; reason: 'revoked' | 'step_up_required'; eventId: string; tool: string; principal: PrincipalSummary }
/**
 * `call.decision` for a call that waited (throttle queue) while the policy was replaced: it is not
 * forwarded on the old decision; `policyHash` names the policy in force when it was refused.
 */
export interface PolicyChangedDecisionFields { action: 'block'; enforced: 'block'; reason: 'policy_changed'; policyHash: string; tool: string; principal: PrincipalSummary }
/**
 * `call.decision` for a call that waited (throttle queue, approval) while its token expired: an
 * HTTP call is authenticated once, on arrival, so it is not forwarded on a token past its `exp`.
 */
export interface TokenExpiredDecisionFields { action: 'block'; enforced: 'block'; reason: 'token_expired'; tool: string; principal: PrincipalSummary }
/**
 * `call.decision` for a call that waited while its upstream announced the list of its definitions
 * changed (tools, prompts or resources `list_changed`), or whose upstream restarted before it was
 * forwarded (`upstream_restarted`, waited or not): it was judged, perhaps approved, as the
 * definition stood, so it is not forwarded.
 */
export interface DefinitionChangedDecisionFields { action: 'block'; enforced: 'block'; reason: 'definition_changed' | 'upstream_restarted'; tool: string; principal: PrincipalSummary }
/**
 * `call.decision` for a call that waited while a token-claims-change replaced the claims it was
 * judged (perhaps approved) with: it is not forwarded on claims the IdP withdrew.
 */
export interface ClaimsChangedDecisionFields { action: 'block'; enforced: 'block'; reason: 'claims_changed'; tool: string; principal: PrincipalSummary }

/** `call.throttle`: admitted after waiting `waitedMs` (0 when a token was free), or rejected. */
export type ThrottleFields =
  | { outcome: 'admitted'; waitedMs: number }
  | { outcome: 'rejected'; reason: string; retryAfterMs: number };

/** `event.received`: a SET refused with a 400 (`err` as answered), or accepted (possibly a duplicate `jti`). */
export type EventReceivedFields =
  | { accepted: false; err: string; description: string }
  | { accepted: true; duplicate: boolean; eventId: string; issuer: string; eventTypes: readonly string[]; txn?: string };

/** What a `pins.*` record is about: a tool, a prompt or a resource template, by its upstream name. */
export type PinSubject = { tool: string } | { prompt: string } | { resourceTemplate: string };

/** First-use pinning of one kind of an upstream: the names actually pinned. */
export type PinsFirstUse = { upstream: string; by: 'first-use' } & ({ tools: readonly string[] } | { prompts: readonly string[] } | { resourceTemplates: readonly string[] });

/** `pins.accepted`: one definition accepted (by an operator, by `onNew: allow`, or read from the pin file), or first-use pinning. */
export type PinsAcceptedFields = ({ upstream: string; digest: string; previousDigest?: string; by: string } & PinSubject) | PinsFirstUse;

/** `audit.recovered`: written by the sink itself, at start-up after an unclean stop, or after a write failure healed. */
export type AuditRecoveredFields =
  | RestartNote
  | {
    reason: 'write_failed' | 'file_removed' | 'file_replaced'; errorCode: string; error: string; unavailableSince: string;
    rejectedRecords: number; fileLastSeq: number | null; discardedBytes?: number; movedTo?: string;
  };

/**
 * Typed fields of every audit event (schema version 1). The sink adds `v`, `seq`, `ts`, `prev`,
 * `hash`; it redacts `args`/`result` and adds `argsDigest`/`resultDigest` when they are missing.
 * Fields are stable: renaming or retyping one bumps the schema version.
 *
 * Producers build records with `auditEvent(type, fields)` so the compiler holds them to this map
 * (write fields out, not spread from another object: a spread escapes the excess-property check).
 * The README's record table and test/helpers/audit-field-spec.ts list the same names; a test
 * compares all three with what real scenarios write.
 */
export interface AuditEventFields {
  'warden.start': { version: string; pid: number; transport: string; upstreams: readonly string[] };
  'warden.stop': { reason: string };
  /** Configuration at start-up, with secrets removed by the producer (the sink redacts again). */
  'config.loaded': { file: string; digest: string; config: unknown };
  'policy.loaded': { file: string; policyHash: string; rules: number; reload: boolean; mode: 'enforce' | 'monitor' };
  'policy.reload_failed': { file: string; error: string; keptPolicyHash: string };
  'session.opened': { sessionId: string; principal: PrincipalSummary; transport: string; remoteAddress?: string; userAgent?: string };
  'session.closed': { sessionId: string; principal: PrincipalSummary; reason: string };
  /** `expected`: the principal the session belongs to; `presented`: the one that tried to use it. */
  'session.hijack_rejected': { sessionId: string; expected: PrincipalSummary; presented: PrincipalSummary; remoteAddress?: string };
  /** A new HTTP session over a cap (`reason`: too_many_sessions | too_many_sessions_for_principal | too_many_sessions_for_client); `open` of `limit`. */
  'session.refused': { reason: string; principal: PrincipalSummary; open: number; limit: number; remoteAddress?: string };
  /** `tokenDigest` is `sha256:` of the presented token; the token itself is never recorded. */
  /** `lockedForMs` (control API): this failure locked the source address out for that long. */
  'identity.failed': { reason: string; transport: string; remoteAddress?: string; tokenDigest?: string; lockedForMs?: number };
  /**
   * HTTP (`transport: http`) or control API (`transport: control`) authentication failures, or SETs
   * the security event receiver refused (`transport: events`), past the per-window record limits
   * (src/proxy/identity-failure-sampler.ts),
   * counted instead of recorded one by one: `since`/`until` the window (epoch ms), `reasons` per
   * reason code, `sources` distinct addresses, `top` the addresses with most suppressed failures.
   */
  'identity.failures_suppressed': {
    transport: 'http' | 'control' | 'events'; since: number; until: number; count: number; reasons: Readonly<Record<string, number>>;
    sources: number; top: ReadonlyArray<{ readonly remoteAddress: string; readonly count: number }>;
  };
  'call.received': CallBase & { principal: PrincipalSummary; upstream: string; tool: string; args: unknown; argsDigest: string };
  'call.identity': CallBase & { ok: boolean; principal: PrincipalSummary; reason: 'claims_override' | 'revoked' | 'token_expired' };
  'call.risk': CallBase & { score: number; reasons: readonly Reason[]; sensitivity: string };
  'call.decision': CallBase & (PolicyDecisionFields | HiddenDecisionFields | RevokedDecisionFields | PolicyChangedDecisionFields | TokenExpiredDecisionFields | DefinitionChangedDecisionFields | ClaimsChangedDecisionFields);
  'call.throttle': CallBase & ThrottleFields;
  /** `argsDigest`/`policyHash` bind the approval to these arguments and this policy version; `expiresAt` in epoch ms. */
  'call.approval_requested': CallBase & { approvalId: string; argsDigest: string; policyHash: string; expiresAt: number };
  /**
   * `how`: `control-api` (a person answered), `grant` (a remembered grant allowed it; no approval
   * was requested for this call, `by`/`approver` are who created the grant), `queue_full` (warden
   * denied it because too many approvals were pending).
   */
  'call.approval_answered': CallBase & {
    approvalId?: string; approved: boolean; by: string; how: 'control-api' | 'grant' | 'queue_full';
    outcome: 'allow_once' | 'allow_remember' | 'deny' | 'allowed_by_grant' | 'unavailable';
    approver?: ApproverSummary; grantId?: string; reason?: string;
  };
  'call.approval_timeout': CallBase & { approvalId: string; waitedMs: number };
  'call.approval_withdrawn': CallBase & { approvalId: string; reason: string };
  'call.forwarded': CallBase & { upstream: string; tool: string };
  'call.result': CallBase & {
    status: UpstreamOutcome['status']; durationMs: number; resultBytes: number; resultItems: number;
    resultDigest: string; result?: unknown; error?: UpstreamErrorFields;
  };
  'call.error': CallBase & { code: string; message: string; stage: string };
  /**
   * A remembered approval for issuer + user + upstream + tool (+ `argsDigest` when bound to the
   * arguments); `scope` `principal`: only this `actor` chain, `user`: any agent of the user; times in epoch ms.
   */
  'grant.created': {
    callId: string; grantId: string; approvalId: string; issuer: string; user: string; actor?: string; actorIssuer?: string;
    priorActors: readonly string[]; priorActorIssuers: readonly (string | null)[]; clientId?: string;
    scope: 'principal' | 'user'; upstream: string; tool: string;
    argsDigest?: string; createdAt: number; expiresAt: number; policyHash: string; by: string; approver: ApproverSummary;
  };
  /** `reason` is set when warden revoked it (`policy_changed`: a reload changed the policy it was made under; `subject_revoked`: its user or agent was revoked). */
  'grant.revoked': { grantId: string; user: string; upstream: string; tool: string; by: string; approver: ApproverSummary; reason?: 'policy_changed' | 'subject_revoked' | 'claims_changed' };
  'event.received': EventReceivedFields;
  /** One per event in a SET; `eventId` is the SET's `jti`, `at` the event time (epoch ms), `entryId` the registry entry it made. */
  'event.effect': {
    eventId: string; eventType: string; effect: 'revoke' | 'step_up' | 'claims' | 'none'; reason: string;
    subject?: string; entryId?: string; at: number;
    /** The subject's `iss` is none of the configured token issuers: the entry can match no token. */
    issuerUnknown?: true;
    details: Readonly<Record<string, unknown>>;
  };
  /** `eventId`: the SET's `jti`, or `manual:<uuid>` for an operator revocation; `sessionIds`: warden sessions it closed. */
  revocation: { entryId: string; subject: SubjectMatch; eventId: string; reason: string; by: string; at: number; sessionIds: readonly string[] };
  /** A held definition (withheld from its list until accepted); `poisoned`: the description scan's findings, when any. */
  'pins.changed': { upstream: string; kind: 'changed' | 'new'; digest: string; pinnedDigest?: string; diff: string; poisoned?: readonly string[] } & PinSubject;
  'pins.accepted': PinsAcceptedFields;
  /**
   * An HTTP upstream's standing GET stream (its server-initiated notifications and requests) is
   * gone and the SDK stopped re-opening it; warden keeps trying with backoff. `reason` says why.
   */
  'upstream.stream_lost': { sessionId: string; upstream: string; reason: string };
  /** The stream is open again after `attempts` of warden's tries, `downMs` after it was lost. */
  'upstream.stream_restored': { sessionId: string; upstream: string; attempts: number; downMs: number };
  /**
   * A request warden refused; never forwarded. Three shapes: an HTTP request over a bound on
   * requests in flight (`reason` too_many_requests_in_flight: `open` of `limit` requests on the
   * session; too_many_request_bytes_in_flight / warden_request_bytes_in_flight: `open` bytes the
   * principal / everyone holds, `bytes` of this request, `limit`); a prompt fetch or completion of
   * a prompt the pins hold or the upstream does not list (`upstream`, `prompt`); a read or
   * completion through a held resource template (`upstream`, `uri`, `resourceTemplate`); a URI too
   * long to judge against the upstream's templates (`upstream`, `uriLength`, `limit`: the URI itself
   * is not recorded, megabytes of it would be).
   */
  'request.refused':
    | { sessionId: string; principal: PrincipalSummary; method: string; reason: string; open: number; limit: number; bytes?: number; remoteAddress?: string }
    | { sessionId: string; principal: PrincipalSummary; method: string; upstream: string; prompt: string; reason: string }
    | { sessionId: string; principal: PrincipalSummary; method: string; upstream: string; uri: string; resourceTemplate: string; reason: string }
    | { sessionId: string; principal: PrincipalSummary; method: string; upstream: string; uriLength: number; limit: number; reason: string };
  /**
   * A standing resource subscription warden ended for the agent: sent `resources/unsubscribe` to
   * `upstream`, forgotten (never restored), its updates no longer relayed. `reason` `revoked`: its
   * caller was revoked (`eventId`). `token_expired`: its caller's token expired (`exp` plus the
   * issuer's clock tolerance passed) and no renewed one stands in. `policy_reload` / `upstream_restart` / `security_event`:
   * re-judged after a reload, before being restored after an upstream restart, or after a security
   * event that asked for a step-up or changed the caller's claims, it was no longer allowed: the decision's
   * `action`, `enforced`, `mode`, `rules`, reason `codes` and `policyHash`. `ended` false: monitor
   * mode, what would have happened (the subscription stands). `uri` is redacted as arguments are.
   */
  'subscription.ended': SubscriptionEndedFields;
  'audit.recovered': AuditRecoveredFields;
}

/** See `subscription.ended`. */
export type SubscriptionEndedFields =
  | { sessionId: string; principal: PrincipalSummary; upstream: string; uri: string; reason: 'revoked'; eventId: string; ended: true }
  | { sessionId: string; principal: PrincipalSummary; upstream: string; uri: string; reason: 'token_expired'; ended: true }
  | {
    sessionId: string; principal: PrincipalSummary; upstream: string; uri: string; reason: 'policy_reload' | 'upstream_restart' | 'security_event'; ended: boolean;
    action: Action; enforced: Action; mode: DecisionMode; rules: readonly string[]; codes: readonly string[]; policyHash: string;
  };

// Compile-time check that the map covers exactly the shared event type names.
type Missing = Exclude<AuditEventType, keyof AuditEventFields>;
type Extra = Exclude<keyof AuditEventFields, AuditEventType>;
const _exhaustive: [Missing, Extra] extends [never, never] ? true : never = true;
void _exhaustive;

/**
 * Builds a typed audit event: `auditEvent('call.forwarded', { callId, upstream, tool })`.
 * Takes ownership of `fields`, which every producer writes as a fresh object literal: `type` is
 * added to it instead of copying it (a copy of each record was ~4 % of a forwarded call's CPU).
 */
export function auditEvent<T extends AuditEventType>(type: T, fields: AuditEventFields[T]): AuditEvent {
  (fields as Record<string, unknown>).type = type;
  return fields as unknown as AuditEvent;
}

/** The decision record (written ahead of forwarding). */
export function decisionEvent(callId: string, sessionId: string | undefined, d: Decision, extra: { tool?: string; principal?: PrincipalSummary } = {}): AuditEvent {
  return auditEvent('call.decision', {
    callId,
    ...(sessionId !== undefined ? { sessionId } : {}),
    action: d.action,
    enforced: d.enforced,
    mode: d.mode,
    score: d.score,
    rules: d.rules,
    policyHash: d.policyHash,
    reasons: d.reasons,
    ...extra,
  });
}

/** The upstream result record; `result` is redacted by the sink and digested. */
export function resultEvent(callId: string, sessionId: string | undefined, o: UpstreamOutcome, keepResult = false): AuditEvent {
  return auditEvent('call.result', {
    callId,
    ...(sessionId !== undefined ? { sessionId } : {}),
    status: o.status,
    durationMs: o.durationMs,
    resultBytes: o.resultBytes,
    resultItems: o.resultItems,
    // Results come from JSON-RPC so they always have a canonical form; the digest is kept even
    // when the content is not, so two results can be compared without revealing them.
    resultDigest: o.resultDigest ?? (o.result === undefined ? 'none' : fullDigest(o.result)),
    ...(keepResult ? { result: o.result } : {}),
    ...(o.error ? { error: o.error } : {}),
  });
}
