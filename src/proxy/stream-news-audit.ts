import type { AuditEvent } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { StreamNews } from './upstream-stream-keeper.js';

/** The audit record for news about an upstream's standing GET stream in one warden session. */
export function streamNewsEvent(sessionId: string, upstream: string, news: StreamNews): AuditEvent {
  switch (news.kind) {
    case 'lost':
      return auditEvent('upstream.stream_lost', { sessionId, upstream, reason: news.reason });
    case 'restored':
      return auditEvent('upstream.stream_restored', { sessionId, upstream, attempts: news.attempts, downMs: news.downMs });
    default: {
      const never: never = news;
      throw new Error(`unknown stream news ${String(never)}`);
    }
  }
}
