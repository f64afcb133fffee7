import { EXIT, type CliIo } from '../cli/cli-command.js';
import type { CallSummary } from './call-summary.js';
import { table } from './cli-format.js';
import { terminalJson } from './escape-unsafe.js';
import { ACTIONS, loadCalls } from './cli-query.js';

export const STATS_HELP = `Usage: warden audit stats [--file F] [--since T] [--until T] [--top N] [--max-call-span D] [--json]

Calls per action as decided by policy and as enforced (monitor mode decides but enforces
allow), top tools decided or enforced as block, and top principals by risk.
  --max-call-span D  records up to D (default 6h) after a call's first record join its summary;
                     later ones are left out with a warning. Memory holds one span of calls.
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
function inActionOrder(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m.entries()].sort((a, b) => byAction(a[0], b[0])));
}

type Risk = { principal: string; calls: number; maxScore: number; total: number };

/**
 * Statistics built one call at a time, so `warden audit stats` reads a log of any length with
 * memory for its distinct actions, blocked tools and principals only.
 */
export class StatsAccumulator {
  private calls = 0;
  private readonly decisions = new Map<string, number>();
  private readonly enforced = new Map<string, number>();
  private enforcedOtherwise = 0;
  private readonly blocked = new Map<string, BlockedTool>();
  private readonly risk = new Map<string, Risk>();

  add(c: CallSummary): void {
    this.calls += 1;
    if (c.action !== null) this.decisions.set(c.action, (this.decisions.get(c.action) ?? 0) + 1);
    if (c.enforced !== null) this.enforced.set(c.enforced, (this.enforced.get(c.enforced) ?? 0) + 1);
    if (c.action !== null && c.enforced !== null && c.action !== c.enforced) this.enforcedOtherwise += 1;
    if (c.tool !== null && (c.action === 'block' || c.enforced === 'block')) {
      const t = this.blocked.get(c.tool) ?? { tool: c.tool, decided: 0, enforced: 0 };
      if (c.action === 'block') t.decided += 1;
      if (c.enforced === 'block') t.enforced += 1;
      this.blocked.set(c.tool, t);
    }
    if (c.score !== null) {
      const key = `${c.user ?? '-'}${c.agent ? ` via ${c.agent}` : ''}`;
      const r = this.risk.get(key) ?? { principal: key, calls: 0, maxScore: 0, total: 0 };
      r.calls += 1;
      r.total += c.score;
      r.maxScore = Math.max(r.maxScore, c.score);
      this.risk.set(key, r);
    }
  }

  /** Tools decided or enforced as block (most enforced blocks first, then most decided); principals by mean risk. */
  result(top: number): AuditStats {
    return {
      calls: this.calls,
      decisions: inActionOrder(this.decisions),
      enforced: inActionOrder(this.enforced),
      enforcedOtherwise: this.enforcedOtherwise,
      topBlockedTools: [...this.blocked.values()].sort((a, b) => b.enforced - a.enforced || b.decided - a.decided || a.tool.localeCompare(b.tool)).slice(0, top),
      topPrincipalsByRisk: [...this.risk.values()]
        .map((r) => ({ principal: r.principal, calls: r.calls, maxScore: r.maxScore, meanScore: Math.round((r.total / r.calls) * 10) / 10 }))
        .sort((a, b) => b.meanScore - a.meanScore || b.maxScore - a.maxScore)
        .slice(0, top),
    };
  }
}

/** The statistics of a set of calls: what was decided and what was enforced, side by side. */
export function auditStats(calls: Iterable<CallSummary>, top: number): AuditStats {
  const acc = new StatsAccumulator();
  for (const c of calls) acc.add(c);
  return acc.result(top);
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
  loaded.done();
  io.stdout.write(loaded.values.json ? `${terminalJson(JSON.stringify(stats, null, 2))}\n` : `${statsText(stats)}\n`);
  return EXIT.ok;
}
