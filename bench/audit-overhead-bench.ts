import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startFileAuditSink } from '../src/audit/start-audit-sink.js';
import type { AuditEvent } from '../src/audit/audit-sink.js';
import type { BatchingAuditSink } from '../src/audit/batch-audit.js';
import { percentile, type BenchReport } from './bench-report.js';
import { ACME, benchConfig, WARDEN } from './proxy-bench.js';

const WARMUP = 300;
const ROUNDS = 6;
const CALLS_PER_ROUND = 150;
/** fsync per record costs milliseconds per call on a VM disk: fewer calls keep the bench short. */
const SLOW_SHARE = 0.2;
const REPLAY_CALLS = 5_000;
/** Target: the audit trail is not the dominant cost of the proxy: at most this share of warden's added p50. */
const TARGET_AUDIT_SHARE = 0.5;

interface Variant {
  readonly name: string;
  readonly client: Client;
  readonly auditFile?: string;
  readonly lat: number[];
  /** Share of the calls per round this variant makes (fsync always is slow). */
  readonly share?: number;
}

async function connect(command: string, args: string[]): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, env: getDefaultEnvironment(), stderr: 'ignore' }));
  // List first, as agents do: warden pins an upstream's tools on their first listing, and a call
  // to a tool it has never seen listed is held for approval (pins.onNew).
  await client.listTools();
  return client;
}

async function echo(client: Client): Promise<void> {
  const r = await client.callTool({ name: 'echo', arguments: { message: 'ping' } });
  // A blocked or throttled call would make the numbers meaningless: every call must be forwarded.
  if (r.isError) throw new Error(`echo was not forwarded: ${JSON.stringify(r)}`);
}

async function sequential(v: Variant, calls: number, record: boolean): Promise<void> {
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await echo(v.client);
    if (record) v.lat.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
}

async function wardenVariant(name: string, auditYaml: string, share = 1): Promise<Variant> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-audit-overhead-'));
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, benchConfig(dir, auditYaml));
  return { name, client: await connect(process.execPath, [WARDEN, 'run', '--config', config]), auditFile: join(dir, 'warden-audit.jsonl'), lat: [], share };
}

/** The records of each forwarded call, as warden wrote them (chain fields stripped). */
function callRecords(auditFile: string): { perCall: number; calls: AuditEvent[][] } {
  const byCall = new Map<string, AuditEvent[]>();
  for (const line of readFileSync(auditFile, 'utf8').split('\n')) {
    if (!line) continue;
    const { v: _v, seq: _s, ts: _t, prev: _p, hash: _h, argsDigest: _a, resultDigest: _r, ...event } = JSON.parse(line) as Record<string, unknown>;
    const callId = event.callId;
    if (typeof callId !== 'string') continue;
    if (!byCall.has(callId)) byCall.set(callId, []);
    byCall.get(callId)!.push(event as unknown as AuditEvent);
  }
  const calls = [...byCall.values()];
  return { perCall: calls.reduce((n, c) => n + c.length, 0) / calls.length, calls };
}

/**
 * Replays the real records of warden's calls through a fresh sink (redaction walk,
 * canonicalisation, hash, write(2)) and returns CPU µs per record: what the audit trail costs
 * warden's event loop, independent of the machine's other load.
 */
function usPerRecord(calls: AuditEvent[][], fsync: 'never' | 'always', replay = REPLAY_CALLS, asGuard = false): number {
  const dir = mkdtempSync(join(tmpdir(), 'warden-audit-replay-'));
  try {
    const sink = startFileAuditSink({
      file: join(dir, 'replay.jsonl'), maxFileBytes: 1 << 30, fsync,
      checkpoint: { everyRecords: 10_000 }, redact: { paths: [], patterns: [] },
    });
    const run = (count: number): number => {
      let n = 0;
      for (let i = 0; i < count; i++) {
        const records = calls[i % calls.length]!;
        n += records.length;
        if (asGuard) writeAsGuard(sink, records);
        else for (const r of records) sink.record(r);
      }
      return n;
    };
    // Warm up first, as the audit bench does: otherwise the figure includes compiling the sink.
    run(Math.min(replay, 1_000));
    const c0 = process.cpuUsage();
    const n = run(replay);
    const c = process.cpuUsage(c0);
    void sink.close();
    return (c.user + c.system) / n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** As the guard writes a forwarded call: the steps before the result in one write(2), the result in another. */
function writeAsGuard(sink: BatchingAuditSink, records: readonly AuditEvent[]): void {
  const at = records.findIndex((r) => r.type === 'call.result');
  const ahead = at < 0 ? records : records.slice(0, at);
  if (ahead.length > 0) sink.recordBatch(ahead);
  for (const r of at < 0 ? [] : records.slice(at)) sink.record(r);
}

/**
 * The added cost of the audit trail per forwarded call: echo over stdio directly, through warden
 * (full runtime, bench policy) with `audit.fsync: never` (the default), every 64 records, and
 * always; variants interleaved after a warm-up. Then the records each call wrote are counted and
 * replayed through a sink to get CPU µs per record, so records/call × µs/record is the audit's
 * share of warden's added latency.
 */
export async function runAuditOverheadBench(): Promise<BenchReport> {
  const variants: Variant[] = [
    { name: 'direct', client: await connect(process.execPath, [ACME]), lat: [] },
    await wardenVariant('warden, fsync never', ''),
    await wardenVariant('warden, fsync every 64', 'audit: { fsync: { everyRecords: 64 } }'),
    await wardenVariant('warden, fsync always', 'audit: { fsync: always }', SLOW_SHARE),
  ];
  try {
    const n = (v: Variant, calls: number): number => Math.round(calls * (v.share ?? 1));
    for (const v of variants) await sequential(v, n(v, WARMUP), false);
    for (let r = 0; r < ROUNDS; r++) for (const v of variants) await sequential(v, n(v, CALLS_PER_ROUND), true);
  } finally {
    await Promise.allSettled(variants.map((v) => v.client.close()));
  }
  const p50 = (v: Variant): number => percentile([...v.lat].sort((a, b) => a - b), 50);
  const p99 = (v: Variant): number => percentile([...v.lat].sort((a, b) => a - b), 99);
  const [direct, never] = variants as [Variant, Variant];
  const { perCall, calls } = callRecords(never.auditFile!);
  // The records are in memory now: the warden folders (logs, pins, checkpoints) can go.
  for (const v of variants) if (v.auditFile) rmSync(dirname(v.auditFile), { recursive: true, force: true });
  const usNever = usPerRecord(calls, 'never');
  const usAsGuard = usPerRecord(calls, 'never', REPLAY_CALLS, true);
  const usAlways = usPerRecord(calls.slice(0, 40), 'always', 40);
  // The audit bench's record shape (one small call.decision), for comparison with its records/s.
  const synthetic: AuditEvent[][] = [[{
    type: 'call.decision', callId: 'call-1', sessionId: 'sess-1', action: 'allow', enforced: 'allow', mode: 'enforce',
    score: 10, rules: ['default-allow'], policyHash: 'sha256:9f2c', tool: 'read_file',
  }]];
  const usSynthetic = usPerRecord(synthetic, 'never');
  const auditPerCall = perCall * usNever;
  const added = p50(never) - p50(direct);
  const ok = auditPerCall <= TARGET_AUDIT_SHARE * added;
  const lines = variants.map((v) => `${v.name.padEnd(24)} p50 ${p50(v).toFixed(0).padStart(5)} µs  p99 ${p99(v).toFixed(0).padStart(6)} µs  added p50 vs direct ${(p50(v) - p50(direct)).toFixed(0).padStart(5)} µs`);
  lines.push(
    `records per forwarded call: ${perCall.toFixed(2)} (received, risk, decision, forwarded, result)`,
    `audit CPU per record (replaying warden's own records through a sink): ${usNever.toFixed(1)} µs fsync never, ${usAlways.toFixed(1)} µs CPU fsync always (fsync waits are not CPU: see the latency rows)`,
    `  for comparison, the audit bench's small call.decision record: ${usSynthetic.toFixed(1)} µs (${Math.round(1e6 / usSynthetic).toLocaleString('en-US')} records/CPU-s)`,
    `audit CPU per call: ${auditPerCall.toFixed(1)} µs = ${((auditPerCall / added) * 100).toFixed(0)}% of warden's added p50 (${added.toFixed(0)} µs)`,
    `  written as the guard writes them (write-ahead steps in one write(2), the result in another): ${(perCall * usAsGuard).toFixed(1)} µs per call`,
    `target: audit ≤ ${TARGET_AUDIT_SHARE * 100}% of warden's added p50 (fsync never): ${ok ? 'met' : 'NOT met'}`,
  );
  return {
    name: 'audit overhead in the proxy (echo over stdio)',
    lines,
    ok,
    targets: [{ figure: `audit ${auditPerCall.toFixed(1)} µs per call = ${((auditPerCall / added) * 100).toFixed(0)}% of warden's added p50`, target: `≤ ${TARGET_AUDIT_SHARE * 100}%`, met: ok }],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runAuditOverheadBench();
  process.stdout.write(`${r.name}\n${r.lines.map((l) => `  ${l}`).join('\n')}\n  ${r.ok ? 'target met' : 'MISSED target'}\n`);
}
