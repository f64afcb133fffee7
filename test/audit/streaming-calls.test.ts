import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CallSummaries, summarizeCalls, type CallSummary } from '../../src/audit/call-summary.js';
import { auditStats } from '../../src/audit/cli-stats.js';
import { GENESIS_HASH, encodeRecord, type AuditRecord } from '../../src/audit/record-codec.js';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';

/**
 * `query` and `stats` read logs of any length: a call is summarised from its records and handed
 * out once its span has passed, so memory holds one span of log time. Records that come later
 * than the span are left out, and said so.
 */
const T0 = Date.UTC(2026, 10, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/** Records of `n` calls, one every `everyMs`, each with received, decision and (when allowed) result. */
function callRecords(n: number, everyMs: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let seq = 0;
  const rec = (fields: Record<string, unknown>, at: number) => out.push({ v: 1, seq: ++seq, ts: iso(at), prev: '', hash: '', ...fields } as unknown as AuditRecord);
  for (let i = 0; i < n; i++) {
    const at = T0 + i * everyMs;
    const callId = `call-${i}`;
    const user = `user-${i % 7}`;
    const action = i % 5 === 0 ? 'block' : 'allow';
    rec({ type: 'call.received', callId, principal: { user, actor: 'agent', actorChain: ['agent'] }, tool: `tool-${i % 3}`, upstream: 'acme' }, at);
    rec({ type: 'call.decision', callId, action, enforced: action, score: i % 100 }, at + 1);
    if (action === 'allow') rec({ type: 'call.result', callId, status: 'ok', durationMs: 3 }, at + 5);
  }
  return out;
}

describe('call summaries streamed with a span', () => {
  it('holds only the calls of one span, however long the log', () => {
    const records = callRecords(20_000, 3_600); // 20 h of log, one call every 3.6 s
    const calls = new CallSummaries(3_600_000);
    const seen: CallSummary[] = [];
    let maxOpen = 0;
    for (const r of records) {
      calls.add(r);
      seen.push(...calls.takeSettled());
      maxOpen = Math.max(maxOpen, calls.openCalls);
    }
    seen.push(...calls.takeAll());
    expect(maxOpen).toBeLessThanOrEqual(1_002); // one hour of calls, not 20,000
    expect(seen.map((c) => c.callId)).toEqual(summarizeCalls(records).map((c) => c.callId));
    expect(seen).toEqual(summarizeCalls(records));
    expect(calls.lateRecords).toBe(0);
  });

  it('stats of the stream equal the stats of the whole log in memory', () => {
    const records = callRecords(3_000, 10_000);
    const streamed = new CallSummaries(600_000);
    const out: CallSummary[] = [];
    for (const r of records) {
      streamed.add(r);
      out.push(...streamed.takeSettled());
    }
    out.push(...streamed.takeAll());
    expect(auditStats(out.values(), 5)).toEqual(auditStats(summarizeCalls(records), 5));
  });

  it('a record later than the span is left out of its settled call and counted', () => {
    const records = callRecords(3, 1_000);
    const late = { v: 1, seq: 99, ts: iso(T0 + 2 * 3_600_000), prev: '', hash: '', type: 'call.result', callId: 'call-0', status: 'error' } as unknown as AuditRecord;
    const calls = new CallSummaries(3_600_000);
    for (const r of [...records, late]) calls.add(r);
    const all = [...calls.takeSettled(), ...calls.takeAll()];
    expect(all.find((c) => c.callId === 'call-0')?.status).toBeNull(); // call-0 was blocked: no result joined
    expect(calls.lateRecords).toBe(1);
  });

  it('a clock stepped back by more than the span does not cut the decisions off every later call', () => {
    // The host clock was 7 h ahead at start (or one record carries a far-future time), then
    // corrected: the calls after it must still be summarised with their decisions.
    const out: AuditRecord[] = [];
    let seq = 0;
    const rec = (fields: Record<string, unknown>, at: number) => out.push({ v: 1, seq: ++seq, ts: iso(at), prev: '', hash: '', ...fields } as unknown as AuditRecord);
    rec({ type: 'warden.start' }, T0 + 7 * 3_600_000);
    for (let i = 0; i < 5; i++) {
      rec({ type: 'call.received', callId: `c${i}`, tool: 'delete_file' }, T0 + i * 1_000);
      rec({ type: 'call.decision', callId: `c${i}`, action: 'block', enforced: 'block', score: 90 }, T0 + i * 1_000 + 1);
    }
    const calls = new CallSummaries(6 * 3_600_000);
    const seen: CallSummary[] = [];
    for (const r of out) {
      calls.add(r);
      seen.push(...calls.takeSettled());
    }
    seen.push(...calls.takeAll());
    expect(seen).toEqual(summarizeCalls(out));
    expect(seen.map((c) => c.action)).toEqual(['block', 'block', 'block', 'block', 'block']);
    expect(calls.lateRecords).toBe(0);
  });
});

describe('warden audit query / stats on a long log', () => {
  beforeAll(() => requireBuild());

  /** A real chained log file: calls one per minute for 10 h, plus one result 8 h after its call (in time order). */
  function writeLog(): string {
    const dir = tempDir('warden-stream-cli-');
    const file = join(dir, 'warden-audit.jsonl');
    const late = { type: 'call.result', callId: 'call-1', status: 'tool_error', durationMs: 1, ts: iso(T0 + 8 * 3_600_000 + 60_000 + 30_000) } as unknown as AuditRecord;
    const records = [...callRecords(600, 60_000), late].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    let prev = GENESIS_HASH;
    const lines = records.map((r, i) => {
      const { v: _v, seq: _s, prev: _p, hash: _h, ts, ...fields } = r as unknown as Record<string, unknown>;
      const { line, hash } = encodeRecord(fields, { seq: i + 1, ts: ts as string, prev });
      prev = hash;
      return line;
    });
    writeFileSync(file, lines.join(''));
    return file;
  }
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('query --limit gives the newest calls in order; a record past the span is left out with a warning', () => {
    const file = writeLog();
    const r = cli(['query', '--file', file, '--json', '--limit', '3']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as CallSummary[]).map((c) => c.callId)).toEqual(['call-597', 'call-598', 'call-599']);
    expect(r.stderr).toContain('1 record(s) came more than 6h after their call');
    expect(r.stderr).toContain('--max-call-span');
  });

  it('--max-call-span joins late records again; a bad value is a usage error', () => {
    const file = writeLog();
    const r = cli(['query', '--file', file, '--json', '--user', 'user-1', '--max-call-span', '9h']);
    expect(r.stderr).toBe('');
    const calls = JSON.parse(r.stdout) as CallSummary[];
    expect(calls.find((c) => c.callId === 'call-1')?.status).toBe('tool_error');
    expect(calls.every((c) => c.user === 'user-1')).toBe(true);
    const bad = cli(['stats', '--file', file, '--max-call-span', 'forever']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--max-call-span');
  });

  it('stats over the streamed log counts every call once', () => {
    const file = writeLog();
    const r = cli(['stats', '--file', file, '--json', '--max-call-span', '1h']);
    expect(r.status).toBe(0);
    const stats = JSON.parse(r.stdout) as { calls: number; decisions: Record<string, number> };
    expect(stats.calls).toBe(600);
    expect(stats.decisions).toEqual({ allow: 480, block: 120 });
    expect(r.stderr).toContain('1 record(s) came more than 1h after');
  });

  it('an empty match is still an empty JSON array', () => {
    const r = cli(['query', '--file', writeLog(), '--json', '--user', 'nobody']);
    expect(r.stdout).toBe('[]\n');
  });
});
