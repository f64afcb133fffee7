import type { AuditEvent, AuditSink } from './audit-sink.js';

/**
 * A sink that can append several records with one `write(2)`. Same write-ahead contract as
 * `record()`: when it returns, the kernel has every record of the batch, chained in order;
 * when it throws, none of them was written and the sink is unhealthy.
 */
export interface BatchingAuditSink extends AuditSink {
  recordBatch(events: readonly AuditEvent[]): void;
}

function canBatch(sink: AuditSink): sink is BatchingAuditSink {
  return typeof (sink as Partial<BatchingAuditSink>).recordBatch === 'function';
}

/**
 * Records `events` in order: one write when the sink supports batches, else one `record()` each
 * (a throw stops at the failing record, as separate calls would).
 */
export function recordAll(sink: AuditSink, events: readonly AuditEvent[]): void {
  if (events.length === 0) return;
  if (events.length === 1) {
    sink.record(events[0] as AuditEvent);
    return;
  }
  if (canBatch(sink)) {
    sink.recordBatch(events);
    return;
  }
  for (const e of events) sink.record(e);
}
