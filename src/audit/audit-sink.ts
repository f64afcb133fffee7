/**
 * Every step of every call is recorded through this interface. Event shapes and field docs
 * live in the audit module; producers depend only on this.
 */
export type AuditEventType =
  | 'warden.start'
  | 'warden.stop'
  | 'config.loaded'
  | 'policy.loaded'
  | 'policy.reload_failed'
  | 'session.opened'
  | 'session.closed'
  | 'session.hijack_rejected'
  | 'session.refused'
  | 'identity.failed'
  | 'identity.failures_suppressed'
  | 'call.received'
  | 'call.identity'
  | 'call.risk'
  | 'call.decision'
  | 'call.throttle'
  | 'call.approval_requested'
  | 'call.approval_answered'
  | 'call.approval_timeout'
  | 'call.approval_withdrawn'
  | 'call.forwarded'
  | 'call.result'
  | 'call.error'
  | 'grant.created'
  | 'grant.revoked'
  | 'event.received'
  | 'event.effect'
  | 'revocation'
  | 'pins.changed'
  | 'pins.accepted'
  | 'upstream.stream_lost'
  | 'upstream.stream_restored'
  | 'request.refused'
  | 'subscription.ended'
  | 'audit.recovered';

export interface AuditEvent {
  readonly type: AuditEventType;
  /** Shared by all steps of one tool call. */
  readonly callId?: string;
  /** Warden's downstream session id. */
  readonly sessionId?: string;
  readonly [field: string]: unknown;
}

export interface AuditSink {
  /**
   * Append one record. Returns once the record has been handed to the kernel (`write(2)` done)
   * for the write-ahead path. Throws `AuditUnavailableError` when the sink is unhealthy: the caller
   * must then block the call (fail closed).
   */
  record(event: AuditEvent): void;
  /** False after a write error until a write succeeds again. */
  healthy(): boolean;
  /** Flush and close (SIGTERM/SIGINT). */
  close(): Promise<void>;
}
