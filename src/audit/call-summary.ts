import type { AuditRecord } from './record-codec.js';

/** One tool call assembled from its records (joined by callId), for query and stats. */
export interface CallSummary {
  callId: string;
  ts: string;
  sessionId: string | null;
  user: string | null;
  agent: string | null;
  actorChain: string[];
  upstream: string | null;
  tool: string | null;
  action: string | null;
  enforced: string | null;
  score: number | null;
  status: string | null;
  durationMs: number | null;
  records: number;
}

interface PrincipalLike {
  user?: string;
  actor?: string | null;
  actorChain?: string[];
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function apply(c: CallSummary, r: AuditRecord): void {
  c.records += 1;
  const p = r.principal as PrincipalLike | undefined;
  if (p && typeof p === 'object') {
    c.user ??= str(p.user);
    c.agent ??= str(p.actor);
    if (c.actorChain.length === 0 && Array.isArray(p.actorChain)) c.actorChain = p.actorChain.filter((a) => typeof a === 'string');
  }
  c.sessionId ??= str(r.sessionId);
  c.upstream ??= str(r.upstream);
  c.tool ??= str(r.tool);
  if (r.type === 'call.decision') {
    c.action = str(r.action);
    c.enforced = str(r.enforced);
  }
  if ((r.type === 'call.decision' || r.type === 'call.risk') && typeof r.score === 'number') c.score = r.score;
  if (r.type === 'call.result') {
    c.status = str(r.status);
    c.durationMs = typeof r.durationMs === 'number' ? r.durationMs : null;
  }
  if (r.type === 'call.error' && c.status === null) c.status = 'error';
}

/** Groups call.* records by callId, in order of each call's first record. */
export function summarizeCalls(records: readonly AuditRecord[]): CallSummary[] {
  const calls = new Map<string, CallSummary>();
  for (const r of records) {
    if (typeof r.callId !== 'string' || !r.type.startsWith('call.')) continue;
    let c = calls.get(r.callId);
    if (!c) {
      c = {
        callId: r.callId, ts: r.ts, sessionId: null, user: null, agent: null, actorChain: [], upstream: null,
        tool: null, action: null, enforced: null, score: null, status: null, durationMs: null, records: 0,
      };
      calls.set(r.callId, c);
    }
    apply(c, r);
  }
  return [...calls.values()];
}
