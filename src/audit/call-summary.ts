import type { AuditRecord } from './record-codec.js';

/** One tool call assembled from its records (joined by callId), for query and stats. */
export interface CallSummary {
  callId: string;
  ts: string;
  sessionId: string | null;
  /** The token's issuer: the user's namespace, and an actor's when its `act` names no issuer. */
  issuer: string | null;
  user: string | null;
  agent: string | null;
  /** The current actor's own issuer (`act.iss`), null when its `act` names none. */
  agentIssuer: string | null;
  actorChain: string[];
  /** The `act.iss` of each actorChain entry, same order, null where none was named. */
  actorChainIssuers: (string | null)[];
  upstream: string | null;
  tool: string | null;
  action: string | null;
  enforced: string | null;
  score: number | null;
  status: string | null;
  /**
   * Why warden did not forward the call, when it did not: `blocked`, `throttle_rejected`,
   * `approval_denied`, `approval_timeout` or `approval_withdrawn`. Null for a forwarded call and
   * for one whose records say neither (still waiting, or cut off). Without it a refused call and
   * one still pending looked alike (`status` null) in a query.
   */
  refusal: string | null;
  durationMs: number | null;
  records: number;
}

interface PrincipalLike {
  issuer?: unknown;
  user?: unknown;
  actor?: unknown;
  actorIssuer?: unknown;
  actorChain?: unknown;
  actorChainIssuers?: unknown;
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
    c.issuer ??= str(p.issuer);
    c.user ??= str(p.user);
    // An actor is (iss, sub): its issuer is taken from the same record as its name, never mixed.
    if (c.agent === null && typeof p.actor === 'string') {
      c.agent = str(p.actor);
      c.agentIssuer = str(p.actorIssuer);
    }
    if (c.actorChain.length === 0 && Array.isArray(p.actorChain)) setChain(c, p.actorChain, Array.isArray(p.actorChainIssuers) ? p.actorChainIssuers : [], str);
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
  c.refusal ??= refusalOf(r);
}

/** The refusal a record states, if it states one (see CallSummary.refusal). */
function refusalOf(r: AuditRecord): string | null {
  switch (r.type) {
    case 'call.decision':
      return r.enforced === 'block' ? 'blocked' : null;
    case 'call.throttle':
      return r.outcome === 'rejected' ? 'throttle_rejected' : null;
    case 'call.approval_answered':
      return r.approved === false ? 'approval_denied' : null;
    case 'call.approval_timeout':
      return 'approval_timeout';
    case 'call.approval_withdrawn':
      return 'approval_withdrawn';
    default:
      return null;
  }
}

/** The chain's names and, aligned with them, their issuers (null where none was named). */
function setChain(c: CallSummary, names: unknown[], issuers: unknown[], str: Str): void {
  names.forEach((name, i) => {
    if (typeof name !== 'string') return;
    c.actorChain.push(str(name) as string);
    c.actorChainIssuers.push(str(issuers[i]));
  });
}

/** How long after its first record a call's records are still joined to it, by default. */
export const DEFAULT_MAX_CALL_SPAN_MS = 6 * 3_600_000;
/** Ids of settled calls remembered to recognise their late records (oldest forgotten first). */
const REMEMBERED_SETTLED = 200_000;

interface OpenCall {
  readonly summary: CallSummary;
  /** When the call's first record was written (log time, ms). */
  readonly startMs: number;
}

/**
 * Builds call summaries record by record, so a reader can stream the log: it keeps one summary
 * per open call (a call's fields can come from any later record), never the records. A call
 * whose first record is more than `maxSpanMs` older than the newest record read is settled:
 * handed out (takeSettled) and forgotten, so memory holds the calls of one span of log time,
 * not of the whole log. Records of a settled call that still come are counted as late.
 */
export class CallSummaries {
  private readonly open = new Map<string, OpenCall>();
  private readonly settledIds = new Set<string>();
  private readonly str = interner();
  private ready: CallSummary[] = [];
  /** The newest log time read (ms); records out of order never move it back. */
  private nowMs = -Infinity;
  /** Records of a call already settled: not in its summary. */
  lateRecords = 0;

  constructor(private readonly maxSpanMs = Number.POSITIVE_INFINITY) {}

  add(r: AuditRecord): void {
    // Not Date.parse on a non-string: it would String() a forged value (a deep array overflows).
    const t = typeof r.ts === 'string' ? Date.parse(r.ts) : Number.NaN;
    if (Number.isFinite(t) && t > this.nowMs) this.nowMs = t;
    // Settled first: a record more than the span after its call's first record is late itself.
    this.settle();
    if (typeof r.callId === 'string' && r.type.startsWith('call.')) this.join(r, r.callId);
  }

  /** Calls held now (not settled yet): what the reader's memory grows with. */
  get openCalls(): number {
    return this.open.size;
  }

  /** Calls settled since the last take, in order of each call's first record. */
  takeSettled(): CallSummary[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** Every call not taken yet (the log ended), in order of each call's first record. */
  takeAll(): CallSummary[] {
    const out = [...this.takeSettled(), ...[...this.open.values()].map((c) => c.summary)];
    this.open.clear();
    return out;
  }

  private join(r: AuditRecord, callId: string): void {
    let c = this.open.get(callId);
    if (!c) {
      if (this.settledIds.has(callId)) {
        this.lateRecords += 1;
        return;
      }
      const summary: CallSummary = {
        // `ts` as the log has it; a forged non-string one becomes '' (the readers print strings).
        callId, ts: typeof r.ts === 'string' ? r.ts : '', sessionId: null, issuer: null, user: null, agent: null, agentIssuer: null, actorChain: [], actorChainIssuers: [], upstream: null,
        tool: null, action: null, enforced: null, score: null, status: null, refusal: null, durationMs: null, records: 0,
      };
      // A call starts at the log's time so far (the newest time read), not at its own record's
      // time: after the host clock stepped back (or one record carried a far-future time), a
      // record's time lies before that, and a start there would settle the call, and every
      // later one, before their decisions are read. It also keeps starts in insertion order.
      // An unreadable time starts the call now too, so it cannot hold back the calls after it.
      c = { summary, startMs: this.nowMs };
      this.open.set(callId, c);
    }
    apply(c.summary, r, this.str);
  }

  /** Settles open calls from the oldest while they started more than maxSpanMs before now. */
  private settle(): void {
    const cutoff = this.nowMs - this.maxSpanMs;
    // A Map iterates in insertion order (first records); deleting the current entry is safe.
    for (const [id, c] of this.open) {
      if (!(c.startMs < cutoff)) break;
      this.ready.push(c.summary);
      this.open.delete(id);
      this.settledIds.add(id);
      if (this.settledIds.size > REMEMBERED_SETTLED) this.settledIds.delete(this.settledIds.values().next().value as string);
    }
  }
}

/** Groups call.* records by callId, in order of each call's first record (the whole log in memory). */
export function summarizeCalls(records: Iterable<AuditRecord>): CallSummary[] {
  const calls = new CallSummaries();
  for (const r of records) calls.add(r);
  return calls.takeAll();
}

/**
 * The calls of a record stream, in order of each call's first record, each handed out once no
 * record of it can be expected any more (its first record is `maxSpanMs` older than the newest):
 * memory holds one span of log time. `late.records` counts, at the end, records that came after
 * their call was settled (left out of its summary).
 */
export function* streamCalls(records: Iterable<AuditRecord>, maxSpanMs: number, late: { records: number }): Generator<CallSummary> {
  const calls = new CallSummaries(maxSpanMs);
  for (const r of records) {
    calls.add(r);
    const settled = calls.takeSettled();
    if (settled.length > 0) yield* settled;
  }
  yield* calls.takeAll();
  late.records = calls.lateRecords;
}
