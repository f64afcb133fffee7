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

type Str = (v: unknown) => string | null;

const MAX_INTERNED = 10_000;

/**
 * One shared copy per distinct value: JSON.parse makes a new string for every occurrence, and a
 * summary kept per call would otherwise hold its own copy of the same user, tool or session.
 * Bounded: past MAX_INTERNED distinct values, new ones are kept as they come.
 */
function interner(): Str {
  const seen = new Map<string, string>();
  return (v) => {
    if (typeof v !== 'string') return null;
    const known = seen.get(v);
    if (known !== undefined) return known;
    if (seen.size < MAX_INTERNED) seen.set(v, v);
    return v;
  };
}

function apply(c: CallSummary, r: AuditRecord, str: Str): void {
  c.records += 1;
  const p = r.principal as PrincipalLike | undefined;
  if (p && typeof p === 'object') {
    c.user ??= str(p.user);
    c.agent ??= str(p.actor);
    if (c.actorChain.length === 0 && Array.isArray(p.actorChain)) c.actorChain = p.actorChain.filter((a) => typeof a === 'string').map((a) => str(a) as string);
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

/**
 * Builds call summaries record by record, so a reader can stream the log: it keeps one summary
 * per call (a call's fields can come from any later record), never the records.
 */
export class CallSummaries {
  private readonly calls = new Map<string, CallSummary>();
  private readonly str = interner();

  add(r: AuditRecord): void {
    if (typeof r.callId !== 'string' || !r.type.startsWith('call.')) return;
    let c = this.calls.get(r.callId);
    if (!c) {
      c = {
        callId: r.callId, ts: r.ts, sessionId: null, user: null, agent: null, actorChain: [], upstream: null,
        tool: null, action: null, enforced: null, score: null, status: null, durationMs: null, records: 0,
      };
      this.calls.set(r.callId, c);
    }
    apply(c, r, this.str);
  }

  /** The calls in order of each call's first record. */
  list(): CallSummary[] {
    return [...this.calls.values()];
  }
}

/** Groups call.* records by callId, in order of each call's first record. */
export function summarizeCalls(records: Iterable<AuditRecord>): CallSummary[] {
  const calls = new CallSummaries();
  for (const r of records) calls.add(r);
  return calls.list();
}
