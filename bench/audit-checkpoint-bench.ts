import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { AuditConfig, FsyncPolicy } from '../src/audit/audit-config.js';
import type { FileAuditSink } from '../src/audit/file-audit-sink.js';
import type { AuditEvent } from '../src/audit/audit-sink.js';
import { startFileAuditSink } from '../src/audit/start-audit-sink.js';
import type { BenchReport } from './bench-report.js';

/**
 * What keeping the checkpoint fresh in time (checkpoint.maxDelayMs) costs per call. Two parts:
 * the cost of one checkpoint write (sign + write + rename, + fsync unless `never`), and calls
 * written as the guard writes them (a batch of four write-ahead records, then the result) with
 * the event loop turning between calls so the timer can fire, timer off vs 1 s vs 50 ms.
 * Target: at the default 1 s, the timed checkpoints cost under 1% of the audit CPU per call.
 */
const CALL_MS = 2000;
const ROUNDS = 3;
const WRITES = 1000;
const TARGET_SHARE = 0.01;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function steps(i: number): AuditEvent[] {
  const base = { callId: `call-${i}`, sessionId: 'sess-1' };
  return [
    { type: 'call.received', ...base, upstream: 'echo', tool: 'echo', args: { text: `hello ${i}` }, principal: { user: 'alice', actor: 'agent-1' } },
    { type: 'call.risk', ...base, score: i % 100, reasons: [], sensitivity: 'low' },
    { type: 'call.decision', ...base, action: 'allow', enforced: 'allow', mode: 'enforce', score: i % 100, rules: ['default-allow'], policyHash: 'sha256:9f2c', tool: 'echo' },
    { type: 'call.forwarded', ...base, upstream: 'echo', tool: 'echo' },
  ];
}

function config(dir: string, maxDelayMs: number, fsync: FsyncPolicy, signingKey?: string): AuditConfig {
  return {
    file: join(dir, 'bench.jsonl'), maxFileBytes: 1 << 30, fsync,
    checkpoint: { everyRecords: 1000, maxDelayMs, ...(signingKey ? { signingKey } : {}) }, redact: { paths: [], patterns: [] },
  };
}

/**
 * Counts the sink's checkpoints (count, timer, rotation, start and close alike). The periodic
 * ones are written in the background, not through the public checkpoint(): every checkpoint,
 * either way, is computed by the private checkpointNow(), so that is what is counted.
 */
function countCheckpoints(sink: FileAuditSink): { n: number } {
  const counter = { n: 0 };
  const target = sink as unknown as { checkpointNow: (closed: boolean) => unknown };
  const original = target.checkpointNow.bind(sink);
  target.checkpointNow = (closed: boolean) => {
    counter.n += 1;
    return original(closed);
  };
  return counter;
}

/**
 * One checkpoint write: median wall µs (waits on the file system and on other processes) and
 * CPU µs (user + system, what it takes from warden's core), over WRITES writes.
 */
function checkpointCost(dir: string, fsync: FsyncPolicy, signingKey?: string): { wall: number; cpu: number } {
  const sink = startFileAuditSink(config(dir, 0, fsync, signingKey));
  const times: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < WRITES; i++) {
    const t0 = process.hrtime.bigint();
    sink.checkpoint();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const c = process.cpuUsage(c0);
  void sink.close();
  return { wall: median(times), cpu: (c.user + c.system) / WRITES };
}

interface CallRun {
  readonly calls: number;
  readonly cpuUsPerCall: number;
  readonly checkpointsPerS: number;
}

/** Calls for CALL_MS, one event-loop turn between calls (the timer can fire as in warden). */
async function callRun(dir: string, maxDelayMs: number, signingKey: string): Promise<CallRun> {
  const sink = startFileAuditSink(config(dir, maxDelayMs, 'never', signingKey));
  const written = countCheckpoints(sink);
  const c0 = process.cpuUsage();
  const t0 = Date.now();
  let calls = 0;
  while (Date.now() - t0 < CALL_MS) {
    sink.recordBatch(steps(calls));
    sink.record({ type: 'call.result', callId: `call-${calls}`, sessionId: 'sess-1', status: 'ok', durationMs: 1, resultBytes: 10, resultItems: 1, resultDigest: 'none' });
    calls += 1;
    await nextTurn();
  }
  const c = process.cpuUsage(c0);
  const seconds = (Date.now() - t0) / 1000;
  await sink.close();
  rmSync(join(dir, 'bench.jsonl'), { force: true });
  return { calls, cpuUsPerCall: (c.user + c.system) / calls, checkpointsPerS: written.n / seconds };
}

export async function runAuditCheckpointBench(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cp-bench-'));
  try {
    const key = join(dir, 'k.pem');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const costSigned = checkpointCost(dir, 'never', key);
    const costPlain = checkpointCost(dir, 'never');
    const costDurable = checkpointCost(dir, { everyRecords: 64 }, key);
    const variants = [0, 1000, 50];
    const runs = new Map<number, CallRun[]>(variants.map((v) => [v, []]));
    await callRun(dir, 1000, key); // warm-up
    for (let r = 0; r < ROUNDS; r++) for (const v of variants) runs.get(v)?.push(await callRun(dir, v, key));
    const med = (v: number, f: (x: CallRun) => number): number => median((runs.get(v) ?? []).map(f));
    const cost = (c: { wall: number; cpu: number }): string => `${c.cpu.toFixed(0)} CPU µs (wall p50 ${c.wall.toFixed(0)} µs)`;
    const lines = [
      `one checkpoint write: unsigned ${cost(costPlain)}; signed ${cost(costSigned)}; signed + fsync ${cost(costDurable)}`,
      'calls (4 write-ahead records in one write, then the result), signed checkpoint, fsync never, everyRecords 1000:',
    ];
    for (const v of variants) {
      const name = v === 0 ? 'timer off (count only)' : `maxDelayMs ${v}`;
      lines.push(`  ${name.padEnd(22)} ${med(v, (x) => x.cpuUsPerCall).toFixed(2).padStart(6)} CPU µs/call  ${med(v, (x) => x.checkpointsPerS).toFixed(1).padStart(6)} checkpoints/s  ${Math.round(med(v, (x) => x.calls / (CALL_MS / 1000)))} calls/s`);
    }
    // Amortised: the timer adds at most one checkpoint per period, whatever the call rate.
    const perCall = med(0, (x) => x.cpuUsPerCall);
    const rate = med(1000, (x) => x.calls / (CALL_MS / 1000));
    const added = costSigned.cpu / rate;
    const share = added / perCall;
    lines.push(`  default 1 s at ${Math.round(rate)} calls/s: ≤ 1 checkpoint/s = ${added.toFixed(3)} µs/call amortised, ${(share * 100).toFixed(3)}% of ${perCall.toFixed(1)} µs audit CPU per call (target < ${TARGET_SHARE * 100}%)`);
    lines.push(`  at 10 calls/s the same 1 checkpoint/s is ${(costSigned.cpu / 10).toFixed(1)} CPU µs/call, ${(costSigned.cpu / 1e4).toFixed(3)}% of one core`);
    return { name: 'audit checkpoint freshness', lines, ok: share < TARGET_SHARE };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await runAuditCheckpointBench();
  console.log(`# ${report.name}`);
  for (const l of report.lines) console.log(l);
  process.exitCode = report.ok ? 0 : 1;
}
