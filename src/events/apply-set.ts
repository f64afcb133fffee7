import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { EventsConfig } from './events-config.js';
import { eventTimeMs, reactionFor, type EventReaction } from './event-types.js';
import type { VerifiedSet } from './set-verifier.js';
import { describeSubject, parseSubjects, type SubjectMatch } from './subject.js';
import type { Stored, SubjectRegistry } from './subject-registry.js';

// Event members worth keeping in the audit trail (no free-form claims objects).
const DETAIL_KEYS = [
  'event_timestamp',
  'initiating_entity',
  'reason_admin',
  'change_type',
  'credential_type',
  'namespace',
  'previous_level',
  'current_level',
  'change_direction',
  'previous_status',
  'current_status',
  'risk_reason',
  'principal',
] as const;

function eventDetails(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of DETAIL_KEYS) if (event[k] !== undefined) out[k] = event[k];
  if (event.claims !== null && typeof event.claims === 'object') out.claimNames = Object.keys(event.claims);
  return out;
}

/** What one event inside a SET did. */
export interface EventOutcome {
  readonly eventType: string;
  readonly effect: 'revoke' | 'step_up' | 'claims' | 'none';
  readonly reason: string;
  readonly subject: string | undefined;
  readonly entryId: string | undefined;
  /** False when the entry is in force but could not be written to the revocations file. */
  readonly saved: boolean;
  /**
   * The subject's issuer when it is none of the configured token issuers: the entry is stored
   * (it errs strict) but can match no token warden accepts, typically an issuer URL that differs
   * from identity.issuers by a trailing slash or a path. The operator must hear about it.
   */
  readonly unknownIssuer?: string;
}

/**
 * Applies every event of a verified SET to the registry and audits each effect (`event.effect`).
 * The event time is the cut-off, in the transmitter's clock. It may lie after `now` by at most
 * the transmitter's clock tolerance: an IdP whose clock runs ahead stamps both the event and the
 * tokens issued just before it ahead of warden's clock, and clamping to `now` let those tokens
 * escape. Never further (a SET whose `iat` is further ahead is refused anyway), so a forged or
 * buggy far-future `event_timestamp` cannot pre-revoke the tokens of the next hours. Nor later
 * than the SET's `iat` plus that tolerance (an event happens before the SET reporting it is
 * issued): the cut-off is then fixed by the signed SET, so a replay once its jti is forgotten (a
 * restart) cannot revoke the tokens issued since it was first received.
 */
export async function applySet(
  set: VerifiedSet,
  deps: {
    readonly config: EventsConfig;
    readonly registry: SubjectRegistry;
    readonly audit: AuditSink;
    readonly now: number;
    /** Issuers of the tokens warden accepts (identity.issuers); see claimsMatch. Unknown: undefined. */
    readonly tokenIssuers?: readonly string[];
  },
): Promise<EventOutcome[]> {
  const outcomes: EventOutcome[] = [];
  for (const [eventType, event] of Object.entries(set.events)) {
    // SSF puts the subject in `sub_id`; older CAEP drafts put it inside the event.
    const parsed = parseSubjects(set.subId ?? event.subject);
    const reaction = reactionFor(eventType, event, deps.config);
    const toleranceMs = deps.config.clockToleranceSeconds * 1000;
    const at = Math.min(eventTimeMs(event, set.iat), set.iat * 1000 + toleranceMs, deps.now + toleranceMs);
    const results: EventOutcome[] = parsed.kind !== 'ok'
      ? [{ eventType, effect: 'none', reason: parsed.detail, subject: undefined, entryId: undefined, saved: true }]
      : [];
    // One entry per subject named (several for an `aliases` subject).
    for (const subject of parsed.kind === 'ok' ? parsed.matches : []) {
      const match = reaction.kind === 'claims' ? claimsMatch(subject, deps.tokenIssuers) : subject;
      if (match === undefined) {
        results.push({ eventType, effect: 'none', reason: UNBOUND_CLAIMS, subject: describeSubject(subject), entryId: undefined, saved: true });
        continue;
      }
      const stored = await applyReaction(reaction, match, { at, eventId: set.jti, reason: reaction.reason }, set.iss, deps.registry);
      const unknownIssuer = match.issuer !== undefined && deps.tokenIssuers !== undefined && !deps.tokenIssuers.includes(match.issuer) ? match.issuer : undefined;
      results.push({ eventType, effect: reaction.kind, reason: reaction.reason, subject: describeSubject(match), entryId: stored?.entry.id, saved: stored?.saved ?? true, unknownIssuer });
    }
    for (const { effect, reason, subject, entryId, unknownIssuer } of results) {
      const flag = unknownIssuer === undefined ? {} : { issuerUnknown: true as const };
      deps.audit.record(auditEvent('event.effect', { eventId: set.jti, eventType, effect, reason, subject, entryId, at, ...flag, details: eventDetails(event) }));
    }
    outcomes.push(...results);
  }
  return outcomes;
}

const UNBOUND_CLAIMS = 'a claims change for a subject without an issuer (email, opaque) is applied only with one token issuer configured; send an iss_sub subject';

/**
 * The match a claims override is stored under. Unlike a revocation or a step-up, which only ever
 * err strict, an override can add scopes and groups, so it must not reach a same-named user of
 * another token issuer: a subject without an issuer (email, opaque) is bound to the one issuer
 * when only one is configured, and not applied (undefined) when there are several.
 */
function claimsMatch(subject: SubjectMatch, tokenIssuers: readonly string[] | undefined): SubjectMatch | undefined {
  if (subject.issuer !== undefined || tokenIssuers === undefined) return subject;
  const [only, ...more] = tokenIssuers;
  return only !== undefined && more.length === 0 ? { ...subject, issuer: only } : undefined;
}

async function applyReaction(
  reaction: EventReaction,
  match: SubjectMatch,
  input: { readonly at: number; readonly eventId: string; readonly reason: string },
  issuer: string,
  registry: SubjectRegistry,
): Promise<Stored | undefined> {
  switch (reaction.kind) {
    case 'revoke':
      return registry.revoke(match, { ...input, by: `event:${issuer}` });
    case 'step_up':
      return registry.stepUp(match, input);
    case 'claims':
      return registry.overrideClaims(match, reaction.claims, input);
    case 'none':
      return undefined;
  }
}
