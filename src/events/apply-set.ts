import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { EventsConfig } from './events-config.js';
import { eventTimeMs, reactionFor } from './event-types.js';
import type { VerifiedSet } from './set-verifier.js';
import { describeSubject, parseSubject } from './subject.js';
import type { SubjectRegistry } from './subject-registry.js';

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
}

/**
 * Applies every event of a verified SET to the registry and audits each effect (`event.effect`).
 * The event time is clamped to `now` so a future `event_timestamp` cannot pre-revoke tokens that
 * will only be issued later.
 */
export async function applySet(
  set: VerifiedSet,
  deps: { readonly config: EventsConfig; readonly registry: SubjectRegistry; readonly audit: AuditSink; readonly now: number },
): Promise<EventOutcome[]> {
  const outcomes: EventOutcome[] = [];
  for (const [eventType, event] of Object.entries(set.events)) {
    // SSF puts the subject in `sub_id`; older CAEP drafts put it inside the event.
    const parsed = parseSubject(set.subId ?? event.subject);
    const reaction = reactionFor(eventType, event, deps.config);
    const at = Math.min(eventTimeMs(event, set.iat), deps.now);
    let outcome: EventOutcome;
    if (parsed.kind !== 'ok') {
      outcome = { eventType, effect: 'none', reason: parsed.detail, subject: undefined, entryId: undefined };
    } else {
      const input = { at, eventId: set.jti, reason: reaction.reason };
      const subject = describeSubject(parsed.match);
      const entry = await (async () => {
        switch (reaction.kind) {
          case 'revoke':
            return (await deps.registry.revoke(parsed.match, { ...input, by: `event:${set.iss}` })).entry;
          case 'step_up':
            return deps.registry.stepUp(parsed.match, input);
          case 'claims':
            return deps.registry.overrideClaims(parsed.match, reaction.claims, input);
          case 'none':
            return undefined;
        }
      })();
      outcome = { eventType, effect: reaction.kind, reason: reaction.reason, subject, entryId: entry?.id };
    }
    const { effect, reason, subject, entryId } = outcome;
    deps.audit.record(auditEvent('event.effect', { eventId: set.jti, eventType, effect, reason, subject, entryId, at, details: eventDetails(event) }));
    outcomes.push(outcome);
  }
  return outcomes;
}
