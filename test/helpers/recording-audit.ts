import type { AuditEvent, AuditSink } from '../../src/audit/audit-sink.js';

/** An in-memory AuditSink that keeps every event, for asserting what was audited. */
export function createRecordingAudit(): AuditSink & { events: AuditEvent[]; ofType(type: string): AuditEvent[] } {
  const events: AuditEvent[] = [];
  return {
    events,
    ofType: (type) => events.filter((e) => e.type === type),
    record: (event) => void events.push(event),
    healthy: () => true,
    close: async () => undefined,
  };
}
