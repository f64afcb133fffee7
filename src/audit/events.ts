import { digestOf } from '../core/canonical-json.js';
import type { Principal } from '../core/principal.js';
import type { Action, Decision, DecisionMode, Reason } from '../core/decision.js';
import type { UpstreamOutcome } from '../core/tool-call.js';
import type { AuditEvent, AuditEventType } from './audit-sink.js';
import { sealForAudit } from './sealed-value.js';

/**
 * Typed fields of every audit event (schema version 1). The sink adds `v`, `seq`, `ts`, `prev`,
 * `hash`; it redacts `args`/`result` and adds `argsDigest`/`resultDigest` when they are missing.
 * Fields are stable: renaming or retyping one bumps the schema version.
 */
export interface PrincipalSummary {
  readonly issuer: string;
  readonly user: string;
  readonly actor: string | null;
  /** The full actor chain, current actor first, then prior actors (RFC 8693 nested `act`). */
  readonly actorChain: readonly string[];
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
  if (!Object.isFrozen(p) || !Object.isFrozen(p.priorActors) || !Object.isFrozen(p.scopes)) return buildSummary(p);
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

export interface AuditEventFields {
  'warden.start': { version: string; pid: number; transport?: string; upstreams?: readonly string[] };
  'warden.stop': { reason: string; signal?: string };
  /** Configuration at start-up, with secrets removed by the producer (the sink redacts again). */
  'config.loaded': { file: string; digest: string; config: unknown };
  'policy.loaded': { file: string; policyHash: string; rules: number; reload: boolean };
  'policy.reload_failed': { file: string; error: string; keptPolicyHash: string };
  'session.opened': { sessionId: string; principal: PrincipalSummary; transport: string; remoteAddress?: string; userAgent?: string };
  'session.closed': { sessionId: string; principal?: PrincipalSummary; reason: string; calls?: number };
  'session.hijack_rejected': { sessionId: string; expected: PrincipalSummary; presented: PrincipalSummary };
  'identity.failed': { sessionId?: string; reason: string; detail?: string; remoteAddress?: string };
  'call.received': CallBase & { principal: PrincipalSummary; upstream: string; tool: string; args: unknown; argsDigest?: string };
  'call.identity': CallBase & { ok: boolean; principal?: PrincipalSummary; reason?: string };
  'call.risk': CallBase & { score: number; reasons: readonly Reason[]; sensitivity?: string };
  'call.decision': CallBase & {
    action: Action; enforced: Action; mode: DecisionMode; score: number; rules: readonly string[]; policyHash: string;
    reasons?: readonly Reason[]; tool?: string; principal?: PrincipalSummary; failOpen?: boolean;
  };
  'call.throttle': CallBase & { waitMs: number; key: string; outcome: 'waited' | 'rejected' };
  'call.approval_requested': CallBase & { approvalId: string; channel: string; expiresAt: string };
  'call.approval_answered': CallBase & { approvalId: string; approved: boolean; by: string; how: string; comment?: string };
  'call.approval_timeout': CallBase & { approvalId: string; waitedMs: number };
  'call.approval_withdrawn': CallBase & { approvalId: string; reason: string };
  'call.forwarded': CallBase & { upstream: string; tool: string };
  'call.result': CallBase & {
    status: UpstreamOutcome['status']; durationMs: number; resultBytes: number; resultItems: number;
    resultDigest?: string; result?: unknown; error?: { code: number; message: string };
  };
  'call.error': CallBase & { code: string; message: string; stage?: string };
  'grant.created': { grantId: string; principal?: PrincipalSummary; tool?: string; expiresAt?: string; by?: string };
  'grant.revoked': { grantId: string; by?: string; reason?: string };
  'event.received': { eventType: string; issuer: string; jti: string; subject: unknown };
  'event.effect': { eventType: string; jti: string; effect: string; sessions?: readonly string[] };
  revocation: { subject: string; reason: string; until?: string };
  'pins.changed': { upstream: string; tools: readonly string[]; change: string };
  'pins.accepted': { upstream: string; tools: readonly string[]; by: string };
  'audit.recovered': { reason: string; [detail: string]: unknown };
}

// Compile-time check that the map covers exactly the shared event type names.
type Missing = Exclude<AuditEventType, keyof AuditEventFields>;
type Extra = Exclude<keyof AuditEventFields, AuditEventType>;
const _exhaustive: [Missing, Extra] extends [never, never] ? true : never = true;
void _exhaustive;

/** Builds a typed audit event: `auditEvent('call.forwarded', { callId, upstream, tool })`. */
export function auditEvent<T extends AuditEventType>(type: T, fields: AuditEventFields[T]): AuditEvent {
  return { ...(fields as object), type } as AuditEvent;
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
    resultDigest: o.result === undefined ? 'none' : digestOf(o.result),
    ...(keepResult ? { result: o.result } : {}),
    ...(o.error ? { error: o.error } : {}),
  });
}
