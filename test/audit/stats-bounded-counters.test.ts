import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallSummary } from '../../src/audit/call-summary.js';
import { auditStats, StatsAccumulator } from '../../src/audit/cli-stats.js';
import { SpaceSaving } from '../../src/audit/space-saving.js';
import { GENESIS_HASH, encodeRecord } from '../../src/audit/record-codec.js';
import { CLI, int, requireBuild, rng, tempDir } from './audit-test-helpers.js';

/**
 * `warden audit stats` counted every distinct action, blocked tool and principal in a map: a log
 * with millions of distinct users or tools (or one written to make it so) made stats hold them
 * all. Each table is now a Space-Saving summary of a fixed number of counters: exact while the
 * distinct keys fit, the heavy hitters with an error bound (and saying so) past that.
 */
function bruteForce(keys: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** A stream of a few heavy keys among many light ones, shuffled by a seeded PRNG. */
function skewedStream(seed: number, heavy: number, heavyCount: number, light: number): string[] {
  const out: string[] = [];
  for (let h = 0; h < heavy; h++) for (let i = 0; i < heavyCount + 10 * h; i++) out.push(`heavy-${h}`);
  for (let l = 0; l < light; l++) out.push(`light-${l}`, `light-${l}`);
  const rand = rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(rand, 0, i);
    [out[i], out[j]] = [out[j] as string, out[i] as string];
  }
  return out;
}

describe('SpaceSaving', () => {
  it('is exact while the distinct keys fit (against a brute-force count)', () => {
    for (const seed of [1, 2, 3]) {
      const rand = rng(seed);
      const keys = Array.from({ length: 20_000 }, () => `k${int(rand, 0, 99)}`);
      const ss = new SpaceSaving(100, () => null);
      for (const k of keys) ss.add(k);
      expect(ss.approximate).toBe(false);
      expect(ss.errorBound).toBe(0);
      expect(new Map(ss.counters().map((c) => [c.key, c.count]))).toEqual(bruteForce(keys));
      expect(ss.counters().every((c) => c.error === 0)).toBe(true);
    }
  });

  it('past its capacity keeps every key above total/capacity, with counts within their error', () => {
    const capacity = 100;
    const keys = skewedStream(7, 20, 2_000, 50_000);
    const ss = new SpaceSaving(capacity, () => null);
    for (const k of keys) ss.add(k);
    const truth = bruteForce(keys);
    expect(ss.approximate).toBe(true);
    expect(ss.counters().length).toBe(capacity);
    expect(ss.errorBound).toBeGreaterThan(0);
    expect(ss.errorBound).toBeLessThanOrEqual(keys.length / capacity);
    const kept = new Map(ss.counters().map((c) => [c.key, c]));
    // Not vacuous: the twenty heavy keys are above the bound, and found.
    expect([...truth.values()].filter((n) => n > keys.length / capacity).length).toBe(20);
    for (const [key, n] of truth) {
      if (n > keys.length / capacity) expect(kept.has(key), key).toBe(true);
      const c = kept.get(key);
      if (c) {
        expect(c.count).toBeGreaterThanOrEqual(n);
        expect(c.count - c.error).toBeLessThanOrEqual(n);
        expect(c.error).toBeLessThanOrEqual(ss.errorBound);
      } else expect(n).toBeLessThanOrEqual(ss.errorBound);
    }
  });

  it('rejects a capacity that counts nothing', () => {
    expect(() => new SpaceSaving(0, () => null)).toThrow(RangeError);
  });
});

function call(i: number, tool: string, user: string, action: string, score: number): CallSummary {
  return {
    callId: `c${i}`, ts: new Date(Date.UTC(2026, 10, 22) + i).toISOString(), sessionId: null, issuer: null, user, agent: null, agentIssuer: null, actorChain: [], actorChainIssuers: [], upstream: null,
    tool, action, enforced: action, score, status: null, refusal: null, durationMs: null, records: 3,
  };
}

describe('audit stats with bounded counters', () => {
  it('is exact when the distinct tools and principals fit (against a brute-force count)', () => {
    const rand = rng(11);
    const calls = Array.from({ length: 5_000 }, (_, i) =>
      call(i, `tool-${int(rand, 0, 40)}`, `user-${int(rand, 0, 60)}`, rand() < 0.3 ? 'block' : 'allow', int(rand, 0, 100)),
    );
    const stats = auditStats(calls, 1_000, 100);
    expect(stats.approximate).toBe(false);
    expect(stats.errorBound).toBeUndefined();
    const blocked = bruteForce(calls.filter((c) => c.action === 'block').map((c) => c.tool as string));
    expect(new Map(stats.topBlockedTools.map((t) => [t.tool, t.decided]))).toEqual(blocked);
    expect(stats.topBlockedTools.every((t) => t.uncounted === undefined)).toBe(true);
    const perUser = bruteForce(calls.map((c) => c.user as string));
    expect(new Map(stats.topPrincipalsByRisk.map((p) => [p.principal, p.calls]))).toEqual(perUser);
    for (const p of stats.topPrincipalsByRisk) {
      const scores = calls.filter((c) => c.user === p.principal).map((c) => c.score as number);
      expect(p.maxScore).toBe(Math.max(...scores));
      expect(p.meanScore).toBe(Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 10) / 10);
    }
    expect(stats.decisions).toEqual(Object.fromEntries([...bruteForce(calls.map((c) => c.action as string))].sort()));
  });

  it('floods of distinct tools and users keep the true heavy hitters and say the tables are approximate', () => {
    const tools = skewedStream(3, 10, 3_000, 40_000);
    const calls = tools.map((t, i) => call(i, t, t.replace('heavy', 'user').replace('light', 'anon'), 'block', 50));
    const acc = new StatsAccumulator(50);
    for (const c of calls) acc.add(c);
    const stats = acc.result(10);
    expect(stats.approximate).toBe(true);
    expect(stats.maxCounters).toBe(50);
    const bound = stats.errorBound?.topBlockedTools as number;
    expect(bound).toBeGreaterThan(0);
    expect(bound).toBeLessThanOrEqual(calls.length / 50);
    expect(stats.errorBound?.topPrincipalsByRisk).toBeGreaterThan(0);
    // Two action values only: that table stays exact.
    expect(stats.errorBound?.decisions).toBeUndefined();
    expect(stats.decisions).toEqual({ block: calls.length });
    // The ten heavy tools are the top ten, each within its bound of the truth.
    const truth = bruteForce(tools);
    expect(stats.topBlockedTools.map((t) => t.tool).sort()).toEqual(Array.from({ length: 10 }, (_, h) => `heavy-${h}`).sort());
    for (const t of stats.topBlockedTools) {
      const n = truth.get(t.tool) as number;
      expect(t.decided).toBeLessThanOrEqual(n);
      expect(t.decided + (t.uncounted as number)).toBeGreaterThanOrEqual(n);
    }
  });

  it('holds at most maxCounters counters per table whatever the number of distinct keys', () => {
    const acc = new StatsAccumulator(20);
    for (let i = 0; i < 100_000; i++) {
      // Distinct decided and enforced actions too (a hostile log); every other call enforced as block.
      acc.add({ ...call(i, `tool-${i}`, `user-${i}`, `action-${i}`, i % 100), enforced: i % 2 === 0 ? 'block' : `enforced-${i}` });
    }
    const inner = acc as unknown as Record<'decisions' | 'enforced' | 'blocked' | 'risk', SpaceSaving<unknown>>;
    for (const t of ['decisions', 'enforced', 'blocked', 'risk'] as const) expect(inner[t].counters().length).toBe(20);
    expect(acc.result(5).approximate).toBe(true);
  });
});

describe('warden audit stats --max-counters', () => {
  beforeAll(() => requireBuild());
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  /** A chained log of blocked calls: tool-0 blocked 30 times, then 40 other tools once each. */
  function writeLog(): string {
    const file = join(tempDir('warden-stats-'), 'warden-audit.jsonl');
    const tools = [...Array.from({ length: 30 }, () => 'tool-0'), ...Array.from({ length: 40 }, (_, i) => `tool-${i + 1}`)];
    let prev = GENESIS_HASH;
    let seq = 0;
    const lines: string[] = [];
    tools.forEach((tool, i) => {
      const ts = new Date(Date.UTC(2026, 10, 22, 10) + i * 1000).toISOString();
      for (const fields of [
        { type: 'call.received', callId: `c${i}`, tool, principal: { user: `u${i % 3}` } },
        { type: 'call.decision', callId: `c${i}`, action: 'block', enforced: 'block', score: 80 },
      ]) {
        const { line, hash } = encodeRecord(fields, { seq: ++seq, ts, prev });
        prev = hash;
        lines.push(line);
      }
    });
    writeFileSync(file, lines.join(''));
    return file;
  }

  it('says when the tables are approximate, with the error bound, in text and JSON', () => {
    const file = writeLog();
    const json = cli(['stats', '--file', file, '--json', '--max-counters', '5']);
    expect(json.status).toBe(0);
    const s = JSON.parse(json.stdout) as ReturnType<typeof auditStats>;
    expect(s).toMatchObject({ calls: 70, approximate: true, maxCounters: 5 });
    expect(s.errorBound?.topBlockedTools).toBeGreaterThan(0);
    expect(s.errorBound?.topPrincipalsByRisk).toBeUndefined();
    expect(s.topBlockedTools[0]).toMatchObject({ tool: 'tool-0' });
    const text = cli(['stats', '--file', file, '--max-counters', '5']).stdout;
    expect(text).toContain('approximate: more than 5 distinct blocked tools');
    const exact = JSON.parse(cli(['stats', '--file', file, '--json']).stdout) as ReturnType<typeof auditStats>;
    expect(exact).toMatchObject({ approximate: false, maxCounters: 1000 });
    expect(exact.topBlockedTools[0]).toEqual({ tool: 'tool-0', decided: 30, enforced: 30 });
  });

  it('a --max-counters that counts nothing is a usage error', () => {
    const file = writeLog();
    for (const bad of ['0', '-1', 'many', '1e3']) expect(cli(['stats', '--file', file, '--max-counters', bad]).status).toBe(2);
  });
});
