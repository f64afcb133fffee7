import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { defaultAuditFile, expandSet, parseDuration, parseTime, streamRecords } from './read-records.js';
import { readProgress } from './read-progress.js';
import { DEFAULT_MAX_CALL_SPAN_MS, streamCalls, type CallSummary } from './call-summary.js';
import { table, writeJsonStream } from './cli-format.js';
import { AuditUnreadableError } from './audit-errors.js';

export const QUERY_HELP = `Usage: warden audit query [filters] [--file F] [--json] [--limit N] [--max-call-span D]

Lists tool calls (joined from their records by call id) matching every filter given:
  --user U        principal user            --agent A     current actor (or anywhere in the chain), any issuer
  --agent-issuer URL  that actor's issuer: its act.iss, or the token's iss when its act names
                  none (as policy agentIssuers). With --agent: the same actor has both
  --tool T        tool name                 --action X    decided action (allow|throttle|approve|block)
  --enforced X    enforced action (what happened; monitor mode decides but enforces allow)
  --since T       ISO time or relative (30s, 15m, 1h, 2d, 1w)     --until T   same forms
  --min-score N   risk score at least N
Prints a table (action = decided, enforced = what was enforced), or --json an array of call
summaries (action, enforced, ...). --limit N: the newest N matching calls.
  --max-call-span D  records up to D (default 6h) after a call's first record join its summary;
                     later ones are left out with a warning. Memory holds one span of calls.
Exit codes: 0, also when no call matches (it prints "0 call(s)" or []), 2 usage, 3 no audit file
or a file that cannot be read. --json streams its array: a read error after part of it was
printed leaves it unterminated (no JSON parser takes it for an answer) and says so on stderr.
`;

export interface Filters {
  user?: string; agent?: string; agentIssuer?: string; tool?: string; action?: string; enforced?: string; since?: number; until?: number; minScore?: number;
  /** --limit (query) / --top (stats): how many rows to print. */
  limit?: number; top?: number;
  /** --max-counters (stats): counters per table. */
  maxCounters?: number;
  /** --max-call-span: how long after its first record a call's records still join it (ms). */
  maxCallSpanMs: number;
}

function matches(c: CallSummary, f: Filters): boolean {
  const t = Date.parse(c.ts);
  return (
    (f.user === undefined || c.user === f.user) &&
    actorMatches(c, f) &&
    (f.tool === undefined || c.tool === f.tool) &&
    (f.action === undefined || c.action === f.action) &&
    (f.enforced === undefined || c.enforced === f.enforced) &&
    (f.since === undefined || t >= f.since) &&
    (f.until === undefined || t <= f.until) &&
    (f.minScore === undefined || (c.score ?? -1) >= f.minScore)
  );
}

/**
 * --agent and --agent-issuer: some actor of the call (the current one or any in the chain) has
 * that name and that issuer, both on the same actor. An actor is (iss, sub): `agent-7` of another
 * namespace is another agent. Its issuer is its own `act.iss`, or the token's when it names none,
 * the rule policy `agentIssuers` and security events follow.
 */
function actorMatches(c: CallSummary, f: Filters): boolean {
  if (f.agent === undefined && f.agentIssuer === undefined) return true;
  const is = (name: string | null, issuer: string | null): boolean =>
    name !== null && (f.agent === undefined || name === f.agent) && (f.agentIssuer === undefined || (issuer ?? c.issuer) === f.agentIssuer);
  return is(c.agent, c.agentIssuer) || c.actorChain.some((name, i) => is(name, c.actorChainIssuers[i] ?? null));
}

/** Actions from mildest to strictest: the row order of stats. */
export const ACTIONS = ['allow', 'throttle', 'approve', 'block'] as const;

const OPTIONS = {
  file: { type: 'string' }, user: { type: 'string' }, agent: { type: 'string' }, 'agent-issuer': { type: 'string' }, tool: { type: 'string' },
  action: { type: 'string' }, enforced: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, 'min-score': { type: 'string' },
  limit: { type: 'string' }, top: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  'max-call-span': { type: 'string' }, 'max-counters': { type: 'string' },
} as const;

/** Options of the shared table that belong to the other command only. */
const OTHERS_ONLY: Record<'query' | 'stats', readonly (keyof typeof OPTIONS)[]> = { query: ['top', 'max-counters'], stats: ['limit'] };

type Parsed = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

/** Turns flags into filters; a string names the bad flag. */
function toFilters(v: Parsed, now: number): Filters | string {
  const f: Filters = { maxCallSpanMs: DEFAULT_MAX_CALL_SPAN_MS };
  if (v['max-call-span'] !== undefined) {
    const span = parseDuration(v['max-call-span']);
    if (span === undefined || span <= 0) return '--max-call-span must be a duration like 90m, 6h or 2d';
    f.maxCallSpanMs = span;
  }
  if (v.user !== undefined) f.user = v.user;
  if (v.agent !== undefined) f.agent = v.agent;
  if (v['agent-issuer'] !== undefined) f.agentIssuer = v['agent-issuer'];
  if (v.tool !== undefined) f.tool = v.tool;
  for (const k of ['action', 'enforced'] as const) {
    if (v[k] === undefined) continue;
    if (!(ACTIONS as readonly string[]).includes(v[k])) return `--${k} must be allow, throttle, approve or block`;
    f[k] = v[k];
  }
  for (const k of ['since', 'until'] as const) {
    if (v[k] === undefined) continue;
    const t = parseTime(v[k], now);
    if (t === undefined) return `--${k}: not an ISO time or a relative time like 1h`;
    f[k] = t;
  }
  for (const k of ['limit', 'top'] as const) {
    if (v[k] === undefined) continue;
    // Checked, not coerced: Number('x') is NaN and slice(-0) keeps everything, so a typo or a 0
    // would silently print every call.
    if (!/^\d+$/.test(v[k])) return `--${k} must be a non-negative integer`;
    f[k] = Number(v[k]);
  }
  if (v['max-counters'] !== undefined) {
    // At least one counter: zero would count nothing and still look like an answer.
    const n = /^\d+$/.test(v['max-counters']) ? Number(v['max-counters']) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1) return '--max-counters must be a positive integer';
    f.maxCounters = n;
  }
  if (v['min-score'] !== undefined) {
    const n = Number(v['min-score']);
    if (!Number.isFinite(n)) return '--min-score must be a number';
    f.minScore = n;
  }
  return f;
}

/** The calls of the log that match the filters, streamed; `done()` once they were all read. */
export interface LoadedCalls {
  readonly calls: Iterable<CallSummary>;
  readonly values: Parsed;
  readonly filters: Filters;
  /** Warns (stderr) about records left out of their call's summary; call after reading `calls`. */
  done(): void;
}

/**
 * Parses the shared flags and streams the log into the matching call summaries; a number is the
 * exit code to return (help printed, usage error, no audit file). The options only the other
 * command takes (query's --limit, stats' --top) are refused rather than silently ignored.
 */
export function loadCalls(argv: string[], io: CliIo, help: string, command: 'query' | 'stats'): LoadedCalls | number {
  const { values } = parseArgs({ args: argv, options: OPTIONS });
  if (values.help) {
    io.stdout.write(help);
    return EXIT.ok;
  }
  const other = command === 'query' ? 'stats' : 'query';
  const misplaced = OTHERS_ONLY[command].find((k) => values[k] !== undefined);
  if (misplaced !== undefined) {
    io.stderr.write(`warden audit ${command}: --${misplaced} is an option of \`warden audit ${other}\`, not of ${command}\n`);
    return EXIT.usage;
  }
  const filters = toFilters(values, Date.now());
  if (typeof filters === 'string') {
    io.stderr.write(`warden audit: ${filters}\n`);
    return EXIT.usage;
  }
  const active = defaultAuditFile(values.file, io.env, io.cwd);
  const files = expandSet(active);
  if (files.length === 0) {
    io.stderr.write(`warden audit: ${active}: no such audit file\n`);
    return EXIT.config;
  }
  // Streams the records; one summary per open call is kept (later records fill in its fields),
  // and a call is handed out once its span has passed.
  const late = { records: 0 };
  const span = values['max-call-span'] ?? '6h';
  // Progress on stderr, unless JSON streams to the same terminal meanwhile (it would cut into it).
  const streamsToTerminal = command === 'query' && values.json === true && values.limit === undefined && io.stdout.isTTY === true;
  const progress = streamsToTerminal ? undefined : readProgress(io.stderr, 'reading', files);
  return {
    calls: filtered(streamCalls(streamRecords(files, progress ? { onRead: progress.onRead, active } : { active }), filters.maxCallSpanMs, late), filters),
    values,
    filters,
    done: () => {
      progress?.done();
      if (late.records === 0) return;
      io.stderr.write(`warden audit: ${late.records} record(s) came more than ${span} after their call's first record and are not in its summary (raise --max-call-span)\n`);
    },
  };
}

function* filtered(calls: Iterable<CallSummary>, filters: Filters): Generator<CallSummary> {
  for (const c of calls) if (matches(c, filters)) yield c;
}

/** The last `n` items, oldest first, holding no more than `n`. */
function lastOf<T>(items: Iterable<T>, n: number): T[] {
  if (n === 0) {
    for (const _ of items) {
      // Read to the end anyway: the late-record count needs the whole log.
    }
    return [];
  }
  const ring: T[] = [];
  let next = 0;
  for (const item of items) {
    if (ring.length < n) ring.push(item);
    else ring[next] = item;
    next = (next + 1) % n;
  }
  return ring.length < n ? ring : [...ring.slice(next), ...ring.slice(0, next)];
}

/** `warden audit query`. */
export async function runQuery(argv: string[], io: CliIo): Promise<number> {
  const loaded = loadCalls(argv, io, QUERY_HELP, 'query');
  if (typeof loaded === 'number') return loaded;
  // The newest `limit` calls (records are read oldest first).
  const limit = loaded.filters.limit;
  if (loaded.values.json) {
    // Without a limit the array is written as the calls come: memory holds one span of calls.
    let printed = false;
    const out = { write: (text: string): unknown => ((printed = true), io.stdout.write(text)) };
    try {
      writeJsonStream(out, limit === undefined ? loaded.calls : lastOf(loaded.calls, limit));
    } catch (err) {
      // A disk error inside a file after part of the array went out: it stays unterminated, so no
      // parser takes the calls so far for the whole answer; stderr says so beside the exit 3.
      if (printed && err instanceof AuditUnreadableError) {
        throw new AuditUnreadableError(`${err.message}; the JSON array on stdout stops there, unterminated: not a complete answer`, { cause: err });
      }
      throw err;
    }
    loaded.done();
    return EXIT.ok;
  }
  const calls = limit === undefined ? [...loaded.calls] : lastOf(loaded.calls, limit);
  loaded.done();
  // action is what policy decided, enforced what happened (they differ in monitor mode).
  const rows = calls.map((c) => [
    c.ts, c.callId, c.user ?? '-', c.agent ?? '-', c.tool ?? '-', c.action ?? '-', c.enforced ?? '-', c.score === null ? '-' : String(c.score), c.status ?? c.refusal ?? '-',
  ]);
  io.stdout.write(`${table(['time', 'call', 'user', 'agent', 'tool', 'action', 'enforced', 'score', 'status'], rows)}\n${calls.length} call(s)\n`);
  // Nothing matching is an answer, not a failure: exit 0 like other query tools.
  return EXIT.ok;
}
