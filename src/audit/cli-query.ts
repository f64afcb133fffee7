import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { defaultAuditFile, expandSet, parseTime, streamRecords } from './read-records.js';
import { summarizeCalls, type CallSummary } from './call-summary.js';
import { table, writeJsonArray } from './cli-format.js';

export const QUERY_HELP = `Usage: warden audit query [filters] [--file F] [--json] [--limit N]

Lists tool calls (joined from their records by call id) matching every filter given:
  --user U        principal user            --agent A     current actor (or anywhere in the chain)
  --tool T        tool name                 --action X    decided action (allow|throttle|approve|block)
  --since T       ISO time or relative (30s, 15m, 1h, 2d, 1w)     --until T   same forms
  --min-score N   risk score at least N
Prints a table, or --json an array of call summaries.
`;

export const STATS_HELP = `Usage: warden audit stats [--file F] [--since T] [--until T] [--top N] [--json]

Decisions per action, top blocked tools and top principals by risk.
`;

interface Filters {
  user?: string; agent?: string; tool?: string; action?: string; since?: number; until?: number; minScore?: number;
  /** --limit (query) / --top (stats): how many rows to print. */
  limit?: number; top?: number;
}

function matches(c: CallSummary, f: Filters): boolean {
  const t = Date.parse(c.ts);
  return (
    (f.user === undefined || c.user === f.user) &&
    (f.agent === undefined || c.agent === f.agent || c.actorChain.includes(f.agent)) &&
    (f.tool === undefined || c.tool === f.tool) &&
    (f.action === undefined || c.action === f.action) &&
    (f.since === undefined || t >= f.since) &&
    (f.until === undefined || t <= f.until) &&
    (f.minScore === undefined || (c.score ?? -1) >= f.minScore)
  );
}

const OPTIONS = {
  file: { type: 'string' }, user: { type: 'string' }, agent: { type: 'string' }, tool: { type: 'string' },
  action: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, 'min-score': { type: 'string' },
  limit: { type: 'string' }, top: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

type Parsed = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

/** Turns flags into filters; a string names the bad flag. */
function toFilters(v: Parsed, now: number): Filters | string {
  const f: Filters = {};
  if (v.user !== undefined) f.user = v.user;
  if (v.agent !== undefined) f.agent = v.agent;
  if (v.tool !== undefined) f.tool = v.tool;
  if (v.action !== undefined) {
    if (!['allow', 'throttle', 'approve', 'block'].includes(v.action)) return `--action must be allow, throttle, approve or block`;
    f.action = v.action;
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
  if (v['min-score'] !== undefined) {
    const n = Number(v['min-score']);
    if (!Number.isFinite(n)) return '--min-score must be a number';
    f.minScore = n;
  }
  return f;
}

function load(argv: string[], io: CliIo, help: string): { calls: CallSummary[]; values: Parsed; filters: Filters } | number {
  const { values } = parseArgs({ args: argv, options: OPTIONS });
  if (values.help) {
    io.stdout.write(help);
    return EXIT.ok;
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
  // Streams the records; only one summary per call is kept (later records fill in its fields).
  return { calls: summarizeCalls(streamRecords(files)).filter((c) => matches(c, filters)), values, filters };
}

/** `warden audit query`. */
export async function runQuery(argv: string[], io: CliIo): Promise<number> {
  const loaded = load(argv, io, QUERY_HELP);
  if (typeof loaded === 'number') return loaded;
  // The newest `limit` calls (records are read oldest first).
  const limit = loaded.filters.limit;
  const calls = limit === undefined ? loaded.calls : limit === 0 ? [] : loaded.calls.slice(-limit);
  if (loaded.values.json) {
    writeJsonArray(io.stdout, calls);
    return EXIT.ok;
  }
  const rows = calls.map((c) => [
    c.ts, c.callId, c.user ?? '-', c.agent ?? '-', c.tool ?? '-', c.action ?? '-', c.score === null ? '-' : String(c.score), c.status ?? '-',
  ]);
  io.stdout.write(`${table(['time', 'call', 'user', 'agent', 'tool', 'action', 'score', 'status'], rows)}\n${calls.length} call(s)\n`);
  return EXIT.ok;
}

function countBy<T>(items: readonly T[], key: (t: T) => string | null): [string, number][] {
  const m = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    if (k !== null) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** `warden audit stats`. */
export async function runStats(argv: string[], io: CliIo): Promise<number> {
  const loaded = load(argv, io, STATS_HELP);
  if (typeof loaded === 'number') return loaded;
  const top = loaded.filters.top ?? 10;
  const calls = loaded.calls;
  const decisions = Object.fromEntries(countBy(calls, (c) => c.action));
  const blockedTools = countBy(calls.filter((c) => c.action === 'block'), (c) => c.tool).slice(0, top).map(([tool, count]) => ({ tool, count }));
  const risk = new Map<string, { principal: string; calls: number; maxScore: number; total: number }>();
  for (const c of calls) {
    if (c.score === null) continue;
    const key = `${c.user ?? '-'}${c.agent ? ` via ${c.agent}` : ''}`;
    const r = risk.get(key) ?? { principal: key, calls: 0, maxScore: 0, total: 0 };
    r.calls += 1;
    r.total += c.score;
    r.maxScore = Math.max(r.maxScore, c.score);
    risk.set(key, r);
  }
  const principals = [...risk.values()]
    .map((r) => ({ principal: r.principal, calls: r.calls, maxScore: r.maxScore, meanScore: Math.round((r.total / r.calls) * 10) / 10 }))
    .sort((a, b) => b.meanScore - a.meanScore || b.maxScore - a.maxScore)
    .slice(0, top);
  const stats = { calls: calls.length, decisions, topBlockedTools: blockedTools, topPrincipalsByRisk: principals };
  if (loaded.values.json) {
    io.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
    return EXIT.ok;
  }
  const out = [
    `${calls.length} call(s)`, '', 'Decisions per action',
    table(['action', 'calls'], Object.entries(decisions).map(([a, n]) => [a, String(n)])), '', 'Top blocked tools',
    table(['tool', 'blocked'], blockedTools.map((b) => [b.tool, String(b.count)])), '', 'Top principals by risk',
    table(['principal', 'calls', 'mean', 'max'], principals.map((p) => [p.principal, String(p.calls), String(p.meanScore), String(p.maxScore)])),
  ];
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}
