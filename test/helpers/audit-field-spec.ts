import type { AuditEventType } from '../../src/audit/audit-sink.js';
import type { AuditEventFields } from '../../src/audit/events.js';

/**
 * The documented fields of every audit event type (schema v1), as runtime data: one entry per
 * shape a type can take. The compile-time check below holds it equal to `AuditEventFields`
 * (src/audit/events.ts); test/audit/event-fields.test.ts holds the README record table equal to
 * it; the e2e coverage test holds every record real scenarios write to it. So map, producers and
 * README cannot drift apart without a failing check.
 */
export interface FieldShape {
  readonly shape: string;
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

/** Written by the sink on every record, not by producers. */
export const SINK_FIELDS: readonly string[] = ['v', 'seq', 'ts', 'type', 'prev', 'hash'];

/** A type with a single shape. `const` keeps the names as literal types for the compile-time check. */
function one<const R extends readonly string[], const O extends readonly string[]>(required: R, optional: O) {
  return [{ shape: 'default', required, optional }] as const;
}

export const AUDIT_FIELD_SPEC = {
  'warden.start': one(['version', 'pid', 'transport', 'upstreams'], []),
  'warden.stop': one(['reason'], []),
  'config.loaded': one(['file', 'digest', 'config'], []),
  'policy.loaded': one(['file', 'policyHash', 'rules', 'reload', 'mode'], []),
  'policy.reload_failed': one(['file', 'error', 'keptPolicyHash'], []),
  'session.opened': one(['sessionId', 'principal', 'transport'], ['remoteAddress', 'userAgent']),
  'session.closed': one(['sessionId', 'principal', 'reason'], []),
  'session.hijack_rejected': one(['sessionId', 'expected', 'presented'], ['remoteAddress']),
  'session.refused': one(['reason', 'principal', 'open', 'limit'], ['remoteAddress']),
  'identity.failed': one(['reason', 'transport'], ['remoteAddress', 'tokenDigest', 'lockedForMs']),
  'identity.failures_suppressed': one(['transport', 'since', 'until', 'count', 'reasons', 'sources', 'top'], []),
  'call.received': one(['callId', 'principal', 'upstream', 'tool', 'args', 'argsDigest'], ['sessionId']),
  'call.identity': one(['callId', 'ok', 'principal', 'reason'], ['sessionId']),
  'call.risk': one(['callId', 'score', 'reasons', 'sensitivity'], ['sessionId']),
  'call.decision': [
    { shape: 'policy', required: ['callId', 'action', 'enforced', 'mode', 'score', 'rules', 'policyHash', 'reasons'], optional: ['sessionId', 'tool', 'principal'] },
    { shape: 'hidden', required: ['callId', 'action', 'enforced', 'hidden', 'tool', 'principal'], optional: ['sessionId', 'reason'] },
    { shape: 'revoked', required: ['callId', 'action', 'enforced', 'reason', 'eventId', 'tool', 'principal'], optional: ['sessionId'] },
    { shape: 'policy-changed', required: ['callId', 'action', 'enforced', 'reason', 'policyHash', 'tool', 'principal'], optional: ['sessionId'] },
    { shape: 'token-expired', required: ['callId', 'action', 'enforced', 'reason', 'tool', 'principal'], optional: ['sessionId'] },
  ],
  'call.throttle': [
    { shape: 'admitted', required: ['callId', 'outcome', 'waitedMs'], optional: ['sessionId'] },
    { shape: 'rejected', required: ['callId', 'outcome', 'reason', 'retryAfterMs'], optional: ['sessionId'] },
  ],
  'call.approval_requested': one(['callId', 'approvalId', 'argsDigest', 'policyHash', 'expiresAt'], ['sessionId']),
  'call.approval_answered': one(['callId', 'approved', 'by', 'how', 'outcome'], ['sessionId', 'approvalId', 'approver', 'grantId', 'reason']),
  'call.approval_timeout': one(['callId', 'approvalId', 'waitedMs'], ['sessionId']),
  'call.approval_withdrawn': one(['callId', 'approvalId', 'reason'], ['sessionId']),
  'call.forwarded': one(['callId', 'upstream', 'tool'], ['sessionId']),
  'call.result': one(['callId', 'status', 'durationMs', 'resultBytes', 'resultItems', 'resultDigest'], ['sessionId', 'result', 'error']),
  'call.error': one(['callId', 'code', 'message', 'stage'], ['sessionId']),
  'grant.created': one(['callId', 'grantId', 'approvalId', 'issuer', 'user', 'priorActors', 'priorActorIssuers', 'scope', 'upstream', 'tool', 'createdAt', 'expiresAt', 'policyHash', 'by', 'approver'], ['actor', 'actorIssuer', 'clientId', 'argsDigest']),
  'grant.revoked': one(['grantId', 'user', 'upstream', 'tool', 'by', 'approver'], ['reason']),
  'event.received': [
    { shape: 'rejected', required: ['accepted', 'err', 'description'], optional: [] },
    { shape: 'accepted', required: ['accepted', 'duplicate', 'eventId', 'issuer', 'eventTypes'], optional: ['txn'] },
  ],
  'event.effect': one(['eventId', 'eventType', 'effect', 'reason', 'at', 'details'], ['subject', 'entryId', 'issuerUnknown']),
  revocation: one(['entryId', 'subject', 'eventId', 'reason', 'by', 'at', 'sessionIds'], []),
  'pins.changed': [
    { shape: 'tool', required: ['upstream', 'tool', 'kind', 'digest', 'diff'], optional: ['pinnedDigest', 'poisoned'] },
    { shape: 'prompt', required: ['upstream', 'prompt', 'kind', 'digest', 'diff'], optional: ['pinnedDigest', 'poisoned'] },
    { shape: 'resource template', required: ['upstream', 'resourceTemplate', 'kind', 'digest', 'diff'], optional: ['pinnedDigest', 'poisoned'] },
  ],
  'pins.accepted': [
    { shape: 'tool', required: ['upstream', 'tool', 'digest', 'by'], optional: ['previousDigest'] },
    { shape: 'prompt', required: ['upstream', 'prompt', 'digest', 'by'], optional: ['previousDigest'] },
    { shape: 'resource template', required: ['upstream', 'resourceTemplate', 'digest', 'by'], optional: ['previousDigest'] },
    { shape: 'first-use', required: ['upstream', 'tools', 'by'], optional: [] },
    { shape: 'first-use prompts', required: ['upstream', 'prompts', 'by'], optional: [] },
    { shape: 'first-use resource templates', required: ['upstream', 'resourceTemplates', 'by'], optional: [] },
  ],
  'upstream.stream_lost': one(['sessionId', 'upstream', 'reason'], []),
  'upstream.stream_restored': one(['sessionId', 'upstream', 'attempts', 'downMs'], []),
  'request.refused': [
    { shape: 'in-flight bound', required: ['sessionId', 'principal', 'method', 'reason', 'open', 'limit'], optional: ['bytes', 'remoteAddress'] },
    { shape: 'prompt', required: ['sessionId', 'principal', 'method', 'upstream', 'prompt', 'reason'], optional: [] },
    { shape: 'resource template', required: ['sessionId', 'principal', 'method', 'upstream', 'uri', 'resourceTemplate', 'reason'], optional: [] },
    { shape: 'uri too long', required: ['sessionId', 'principal', 'method', 'upstream', 'uriLength', 'limit', 'reason'], optional: [] },
  ],
  'subscription.ended': [
    { shape: 'revoked', required: ['sessionId', 'principal', 'upstream', 'uri', 'reason', 'eventId', 'ended'], optional: [] },
    { shape: 'token expired', required: ['sessionId', 'principal', 'upstream', 'uri', 'reason', 'ended'], optional: [] },
    { shape: 'policy', required: ['sessionId', 'principal', 'upstream', 'uri', 'reason', 'ended', 'action', 'enforced', 'mode', 'rules', 'codes', 'policyHash'], optional: [] },
  ],
  'audit.recovered': [
    { shape: 'restart', required: ['reason', 'reasons', 'lastGoodSeq'], optional: ['discardedBytes', 'movedTo', 'rotationFinished', 'checkpointSeq', 'checkpointHash'] },
    {
      shape: 'write-recovery',
      required: ['reason', 'errorCode', 'error', 'unavailableSince', 'rejectedRecords', 'fileLastSeq'],
      optional: ['discardedBytes', 'movedTo', 'rotationFinished'],
    },
  ],
} as const satisfies Record<AuditEventType, readonly FieldShape[]>;

// ---- compile time: the spec names exactly the keys of AuditEventFields (all, and the required ones) ----
type AllKeys<U> = U extends unknown ? keyof U : never;
type RequiredKeys<U> = U extends unknown ? { [K in keyof U]-?: object extends Pick<U, K> ? never : K }[keyof U] : never;
type Spec = typeof AUDIT_FIELD_SPEC;
type SpecAll<T extends AuditEventType> = Spec[T][number]['required' | 'optional'][number];
type SpecRequired<T extends AuditEventType> = Spec[T][number]['required'][number];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Drifted = {
  [T in AuditEventType]: Same<AllKeys<AuditEventFields[T]>, SpecAll<T>> extends true
    ? Same<RequiredKeys<AuditEventFields[T]>, SpecRequired<T>> extends true ? never : T
    : T;
}[AuditEventType];
// A type named in an error here has different fields in AuditEventFields than in AUDIT_FIELD_SPEC.
const _inStep: [Drifted] extends [never] ? true : Drifted = true;
void _inStep;

/** The shapes of one type (every type has at least one). */
export function shapesOf(type: string): readonly FieldShape[] | undefined {
  return (AUDIT_FIELD_SPEC as Record<string, readonly FieldShape[]>)[type];
}

/**
 * Which documented shape a record has, or why it has none. Fields whose value is `undefined` count
 * as absent (the record codec omits them, like JSON).
 */
export function matchShape(record: Readonly<Record<string, unknown>>): { ok: true; shape: string } | { ok: false; problem: string } {
  const type = String(record.type);
  const shapes = shapesOf(type);
  if (!shapes) return { ok: false, problem: `unknown type ${type}` };
  const present = Object.keys(record).filter((k) => record[k] !== undefined && !SINK_FIELDS.includes(k));
  const problems: string[] = [];
  for (const s of shapes) {
    const missing = s.required.filter((k) => !present.includes(k));
    const extra = present.filter((k) => !s.required.includes(k) && !s.optional.includes(k));
    if (missing.length === 0 && extra.length === 0) return { ok: true, shape: s.shape };
    problems.push(`${s.shape}: missing [${missing.join(', ')}], undocumented [${extra.join(', ')}]`);
  }
  return { ok: false, problem: `${type} #${String(record.seq ?? '?')} has fields [${present.sort().join(', ')}]; ${problems.join('; ')}` };
}

/**
 * What the README's record table should say for a type: every field name of every shape, with
 * `?` when the field is optional in every shape that has it. `call.*` rows leave out `callId` and
 * `sessionId` (the sink-fields table documents them for every call record).
 */
export function readmeFieldsOf(type: AuditEventType): string[] {
  const shapes: readonly FieldShape[] = AUDIT_FIELD_SPEC[type];
  const names = new Set(shapes.flatMap((s) => [...s.required, ...s.optional]));
  if (type.startsWith('call.')) {
    names.delete('callId');
    names.delete('sessionId');
  }
  return [...names]
    .map((n) => (shapes.every((s) => !s.required.includes(n)) ? `${n}?` : n))
    .sort();
}
