import { EXIT, type CliIo } from '../cli/cli-command.js';
import type { CallSummary } from './call-summary.js';
import { table } from './cli-format.js';
import { ACTIONS, loadCalls } from './cli-query.js';

export const STATS_HELP = `Usage: warden audit stats [--file F] [--since T] [--until T] [--top N] [--json]

Calls per action as decided by policy and as enforced (monitor mode decides but enforces
allow), top tools decided or enforced as block, and top principals by risk.
Exit: 0 (also for no calls), 2 usage, 3 no audit file.
`;

/** A tool that policy decided to block, or that was blocked, in how many calls each. */
export interface BlockedTool {
  tool: string;
  decided: number;
  enforced: number;
}

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
  topPrincipalsByRisk: { principal: string; calls: number; maxScore: number; meanScore: number }[];
}

/** Action order (allow → block), then any other value alphabetically. */
function byAction(a: string, b: string): number {
  const rank = (x: string): number => {
    const i = (ACTIONS as readonly string[]).indexOf(x);
    return i === -1 ? ACTIONS.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Counts per key, in action order. */
function countActions(calls: readonly CallSummary[], key: (c: CallSummary) => string | null): Record<string, number> {
  const m = new Map<string, number>();
  for (const c of calls) {
    const k = key(c);
    if (k !== null) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return Object.fromEntries([...m.entries()].sort((a, b) => byAction(a[0], b[0])));
}

/** Tools decided or enforced as block; most enforced blocks first, then most decided. */
function blockedTools(calls: readonly CallSummary[], top: number): BlockedTool[] {
  const m = new Map<string, BlockedTool>();
  for (const c of calls) {
    if (c.tool === null || (c.action !== 'block' && c.enforced !== 'block')) continue;
    const t = m.get(c.tool) ?? { tool: c.tool, decided: 0, enforced: 0 };
    if (c.action === 'block') t.decided += 1;
    if (c.enforced === 'block') t.enforced += 1;
    m.set(c.tool, t);
  }
  return [...m.values()].sort((a, b) => b.enforced - a.enforced || b.decided - a.decided || a.tool.localeCompare(b.tool)).slice(0, top);
}

function riskiest(calls: readonly CallSummary[], top: number): AuditStats['topPrincipalsByRisk'] {
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
  return [...risk.values()]
    .map((r) => ({ principal: r.principal, calls: r.calls, maxScore: r.maxScore, meanScore: Math.round((r.total / r.calls) * 10) / 10 }))
    .sort((a, b) => b.meanScore - a.meanScore || b.maxScore - a.maxScore)
    .slice(0, top);
}

/** The statistics of a set of calls: what was decided and what was enforced, side by side. */
export function auditStats(calls: readonly CallSummary[], top: number): AuditStats {
  return {
    calls: calls.length,
    decisions: countActions(calls, (c) => c.action),
    enforced: countActions(calls, (c) => c.enforced),
    enforcedOtherwise: calls.filter((c) => c.action !== null && c.enforced !== null && c.action !== c.enforced).length,
    topBlockedTools: blockedTools(calls, top),
    topPrincipalsByRisk: riskiest(calls, top),
  };
}

function statsText(s: AuditStats): string {
  const actions = [...new Set([...Object.keys(s.decisions), ...Object.keys(s.enforced)])].sort(byAction);
  const otherwise = s.enforcedOtherwise > 0 ? [`${s.enforcedOtherwise} call(s) enforced otherwise than decided (monitor mode, policy-wide or per rule)`] : [];
  return [
    `${s.calls} call(s)`, '', 'Calls per action',
    table(['action', 'decided', 'enforced'], actions.map((a) => [a, String(s.decisions[a] ?? 0), String(s.enforced[a] ?? 0)])),
    ...otherwise, '', 'Top blocked tools',
    table(['tool', 'decided', 'enforced'], s.topBlockedTools.map((b) => [b.tool, String(b.decided), String(b.enforced)])), '', 'Top principals by risk',
    table(['principal', 'calls', 'mean', 'max'], s.topPrincipalsByRisk.map((p) => [p.principal, String(p.calls), String(p.meanScore), String(p.maxScore)])),
  ].join('\n');
}

/** `warden audit stats`. */
export async function runStats(argv: string[], io: CliIo): Promise<number> {
  const loaded = loadCalls(argv, io, STATS_HELP);
  if (typeof loaded === 'number') return loaded;
  const stats = auditStats(loaded.calls, loaded.filters.top ?? 10);
  io.stdout.write(loaded.values.json ? `${JSON.stringify(stats, null, 2)}\n` : `${statsText(stats)}\n`);
  return EXIT.ok;
}
