import { EXIT, type CliIo } from '../cli/cli-command.js';
import type { CallSummary } from './call-summary.js';
import { table } from './cli-format.js';
import { terminalJson } from './escape-unsafe.js';
import { ACTIONS, loadCalls } from './cli-query.js';
import { SpaceSaving, type Counter } from './space-saving.js';

export const STATS_HELP = `Usage: warden audit stats [--file F] [--since T] [--until T] [--top N] [--max-counters N] [--max-call-span D] [--json]

Calls per action as decided by policy and as enforced (monitor mode decides but enforces
allow), top tools decided or enforced as block, and top principals by risk (one row per
user and agent, the agent taken with its issuer: act.iss, or the token's iss when none).
The filters of \`warden audit query\` (--user, --agent, --agent-issuer, --tool, --action,
--enforced, --min-score) narrow the calls counted.
  --max-counters N   distinct keys counted per table (default 1000). Past that, the tables keep
                     the most frequent keys (Space-Saving) and say they are approximate, with the
                     most any count may miss. Memory holds N counters per table.
  --max-call-span D  records up to D (default 6h) after a call's first record join its summary;
                     later ones are left out with a warning. Memory holds one span of calls.
Exit codes: 0 (also for no calls), 2 usage, 3 no audit file.
`;

/** Default for `--max-counters`: counters per table. */
export const DEFAULT_MAX_COUNTERS = 1000;

/**
 * A tool that policy decided to block, or that was blocked, in how many calls each. `uncounted`
 * (approximate tables only): calls of the tool that may have gone uncounted, so the true numbers
 * lie between the ones shown and these plus `uncounted`.
 */
export interface BlockedTool {
  tool: string;
  decided: number;
  enforced: number;
  uncounted?: number;
}

export interface RiskyPrincipal {
  /** `user via agent` (or the user alone), for reading; the fields below tell rows apart. */
  principal: string;
  /** The token's issuer (the user's namespace; the agent's too when agentIssuer is null). */
  issuer: string | null;
  user: string | null;
  agent: string | null;
  /** The agent's own issuer (`act.iss`), null when its `act` names none. */
  agentIssuer: string | null;
  calls: number;
  maxScore: number;
  meanScore: number;
  /** As in BlockedTool; maxScore and meanScore are over the counted calls. */
  uncounted?: number;
}

/** The tables of AuditStats that count distinct keys in bounded counters. */
export type CountedTable = 'decisions' | 'enforced' | 'topBlockedTools' | 'topPrincipalsByRisk';

/** `warden audit stats --json`. */
export interface AuditStats {
  calls: number;
  /** Calls per action as policy decided it. */
  decisions: Record<string, number>;
  /** Calls per action as it was enforced (monitor mode enforces allow). */
  enforced: Record<string, number>;
  /** Calls whose enforced action differs from the decided one (monitor mode). */
  enforcedOtherwise: number;
  topBlockedTools: BlockedTool[];
  topPrincipalsByRisk: RiskyPrincipal[];
  /** Counters per table (`--max-counters`). */
  maxCounters: number;
  /** A table had more distinct keys than counters: its counts are lower bounds, see errorBound. */
  approximate: boolean;
  /**
   * Per approximate table, the most any of its counts may miss (and the most often a key that
   * is not shown may have occurred): true count ≤ shown + bound.
   */
  errorBound?: Partial<Record<CountedTable, number>>;
}

/** Action order (allow → block), then any other value alphabetically. */
function byAction(a: string, b: string): number {
  const rank = (x: string): number => {
    const i = (ACTIONS as readonly string[]).indexOf(x);
    return i === -1 ? ACTIONS.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Counts per key, in action order (lower bounds when the table is approximate). */
function inActionOrder(t: SpaceSaving<{ n: number }>): Record<string, number> {
  return Object.fromEntries(
    t
      .counters()
      .map((c): [string, number] => [c.key, c.value.n])
      .sort((a, b) => byAction(a[0], b[0])),
  );
}

/** Who a principal row is about: an agent is (iss, sub), so its issuers are part of the row's key. */
type Who = Pick<RiskyPrincipal, 'issuer' | 'user' | 'agent' | 'agentIssuer'>;
type Risk = { calls: number; maxScore: number; total: number; who: Who };

/** The row key of a call's principal: two agents of one name from different issuers are two rows. */
function whoKey(c: CallSummary): string {
  return JSON.stringify([c.issuer, c.user, c.agent, c.agent === null ? null : c.agentIssuer]);
}

function whoOf(key: string): Who {
  const [issuer, user, agent, agentIssuer] = JSON.parse(key) as [string | null, string | null, string | null, string | null];
  return { issuer, user, agent, agentIssuer };
}

/** The principal column: `user via agent`, as before issuers were recorded. */
function label(w: Who): string {
  return `${w.user ?? '-'}${w.agent ? ` via ${w.agent}` : ''}`;
}

/** The agent issuer column: the agent's namespace, marked when it is the token's issuer (no act.iss). */
function agentIssuerText(p: RiskyPrincipal): string {
  if (p.agent === null) return '-';
  if (p.agentIssuer !== null) return p.agentIssuer;
  return p.issuer === null ? '-' : `${p.issuer} (token iss)`;
}

/** `uncounted` for a counter of an approximate table; nothing for an exact one (counts exact). */
function uncounted(t: SpaceSaving<unknown>, c: Counter<unknown>): { uncounted?: number } {
  return t.approximate ? { uncounted: c.error } : {};
}

/**
 * Statistics built one call at a time, so `warden audit stats` reads a log of any length. Every
 * table keyed by a value from the log (actions, tools, principals) is a Space-Saving summary of
 * `maxCounters` counters: exact while its distinct keys fit, the heavy hitters with error bounds
 * past that. A log with millions of distinct users or tools (or hostile action names) costs
 * `maxCounters` counters per table, not millions.
 */
export class StatsAccumulator {
  private calls = 0;
  private enforcedOtherwise = 0;
  private readonly decisions: SpaceSaving<{ n: number }>;
  private readonly enforced: SpaceSaving<{ n: number }>;
  private readonly blocked: SpaceSaving<{ decided: number; enforced: number }>;
  private readonly risk: SpaceSaving<Risk>;

  constructor(readonly maxCounters = DEFAULT_MAX_COUNTERS) {
    this.decisions = new SpaceSaving(maxCounters, () => ({ n: 0 }));
    this.enforced = new SpaceSaving(maxCounters, () => ({ n: 0 }));
    this.blocked = new SpaceSaving(maxCounters, () => ({ decided: 0, enforced: 0 }));
    this.risk = new SpaceSaving(maxCounters, (key) => ({ calls: 0, maxScore: 0, total: 0, who: whoOf(key) }));
  }

  add(c: CallSummary): void {
    this.calls += 1;
    if (c.action !== null) this.decisions.add(c.action).value.n += 1;
    if (c.enforced !== null) this.enforced.add(c.enforced).value.n += 1;
    if (c.action !== null && c.enforced !== null && c.action !== c.enforced) this.enforcedOtherwise += 1;
    if (c.tool !== null && (c.action === 'block' || c.enforced === 'block')) {
      const t = this.blocked.add(c.tool).value;
      if (c.action === 'block') t.decided += 1;
      if (c.enforced === 'block') t.enforced += 1;
    }
    if (c.score !== null) {
      const r = this.risk.add(whoKey(c)).value;
      r.calls += 1;
      r.total += c.score;
      r.maxScore = Math.max(r.maxScore, c.score);
    }
  }

  /** Tools decided or enforced as block (most enforced blocks first, then most decided); principals by mean risk. */
  result(top: number): AuditStats {
    const tables: [CountedTable, SpaceSaving<unknown>][] = [
      ['decisions', this.decisions], ['enforced', this.enforced], ['topBlockedTools', this.blocked], ['topPrincipalsByRisk', this.risk],
    ];
    const approximate = tables.filter(([, t]) => t.approximate);
    return {
      calls: this.calls,
      decisions: inActionOrder(this.decisions),
      enforced: inActionOrder(this.enforced),
      enforcedOtherwise: this.enforcedOtherwise,
      topBlockedTools: this.blocked
        .counters()
        .map((c) => ({ tool: c.key, decided: c.value.decided, enforced: c.value.enforced, ...uncounted(this.blocked, c) }))
        .sort((a, b) => b.enforced - a.enforced || b.decided - a.decided || a.tool.localeCompare(b.tool))
        .slice(0, top),
      topPrincipalsByRisk: this.risk
        .counters()
        .map((c) => ({ principal: label(c.value.who), ...c.value.who, calls: c.value.calls, maxScore: c.value.maxScore, meanScore: Math.round((c.value.total / c.value.calls) * 10) / 10, ...uncounted(this.risk, c) }))
        .sort((a, b) => b.meanScore - a.meanScore || b.maxScore - a.maxScore)
        .slice(0, top),
      maxCounters: this.maxCounters,
      approximate: approximate.length > 0,
      ...(approximate.length > 0 ? { errorBound: Object.fromEntries(approximate.map(([name, t]) => [name, t.errorBound])) } : {}),
    };
  }
}

/** The statistics of a set of calls: what was decided and what was enforced, side by side. */
export function auditStats(calls: Iterable<CallSummary>, top: number, maxCounters = DEFAULT_MAX_COUNTERS): AuditStats {
  const acc = new StatsAccumulator(maxCounters);
  for (const c of calls) acc.add(c);
  return acc.result(top);
}

/** The line under an approximate table: how far its counts may be off, and what to do about it. */
function approximateNote(s: AuditStats, name: CountedTable, what: string): string[] {
  const bound = s.errorBound?.[name];
  if (bound === undefined) return [];
  return [`approximate: more than ${s.maxCounters} distinct ${what}; the most frequent are kept, and each count may miss up to ${bound} call(s) (raise --max-counters)`];
}

function statsText(s: AuditStats): string {
  const actions = [...new Set([...Object.keys(s.decisions), ...Object.keys(s.enforced)])].sort(byAction);
  const otherwise = s.enforcedOtherwise > 0 ? [`${s.enforcedOtherwise} call(s) enforced otherwise than decided (monitor mode, policy-wide or per rule)`] : [];
  return [
    `${s.calls} call(s)`, '', 'Calls per action',
    table(['action', 'decided', 'enforced'], actions.map((a) => [a, String(s.decisions[a] ?? 0), String(s.enforced[a] ?? 0)])),
    ...approximateNote(s, 'decisions', 'decided actions'), ...approximateNote(s, 'enforced', 'enforced actions'),
    ...otherwise, '', 'Top blocked tools',
    table(['tool', 'decided', 'enforced'], s.topBlockedTools.map((b) => [b.tool, String(b.decided), String(b.enforced)])),
    ...approximateNote(s, 'topBlockedTools', 'blocked tools'), '', 'Top principals by risk',
    table(['principal', 'agent issuer', 'calls', 'mean', 'max'], s.topPrincipalsByRisk.map((p) => [p.principal, agentIssuerText(p), String(p.calls), String(p.meanScore), String(p.maxScore)])),
    ...approximateNote(s, 'topPrincipalsByRisk', 'principals'),
  ].join('\n');
}

/** `warden audit stats`. */
export async function runStats(argv: string[], io: CliIo): Promise<number> {
  const loaded = loadCalls(argv, io, STATS_HELP, 'stats');
  if (typeof loaded === 'number') return loaded;
  const stats = auditStats(loaded.calls, loaded.filters.top ?? 10, loaded.filters.maxCounters ?? DEFAULT_MAX_COUNTERS);
  loaded.done();
  io.stdout.write(loaded.values.json ? `${terminalJson(JSON.stringify(stats, null, 2))}\n` : `${statsText(stats)}\n`);
  return EXIT.ok;
}
