import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath, logSet } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { readRecords } from '../../src/audit/read-records.js';
import { ROOT, int, requireBuild, rng, tempDir } from './audit-test-helpers.js';

const WRITER = join(ROOT, 'test/fixtures/audit/writer.mjs');
// Three lanes overlap process start-up (mostly waiting on a busy machine) on two cores.
const LANES = 3;
const KILLS_PER_LANE = 70;
/** Small, so rotation happens many times under kills too. */
const MAX_FILE_BYTES = 32 * 1024;

interface Run {
  readonly acked: string[];
  readonly ready: boolean;
}

/**
 * Starts the writer and SIGKILLs it as soon as the parent has read `killAfterAcks` acks (the
 * writer keeps writing until the signal lands, so the kill hits mid-stream), or, when
 * `killAfterAcks` is 0, `earlyMs` after spawn (possibly during start-up, recovery or rotation).
 */
function runAndKill(file: string, runId: string, killAfterAcks: number, earlyMs: number): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [WRITER, file, runId, String(MAX_FILE_BYTES), String(killAfterAcks + 100)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let ready = false;
    let buf = '';
    let stderr = '';
    const kill = (): void => void child.kill('SIGKILL');
    const timer = killAfterAcks === 0 ? setTimeout(kill, earlyMs) : undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        if (l === 'ready') ready = true;
        else if (l.startsWith('ack ')) acked.push(l.slice(4));
      }
      if (killAfterAcks > 0 && acked.length >= killAfterAcks) kill();
    });
    child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited ${code} before the kill: ${stderr}`));
      else resolveRun({ acked, ready });
    });
  });
}

async function lane(index: number): Promise<{ kills: number; acked: number; files: number }> {
  const rand = rng(1000 + index);
  const dir = tempDir('warden-crash-');
  const file = join(dir, 'warden-audit.jsonl');
  let kills = 0;
  let totalAcked = 0;
  let readyPairs = 0;
  let previousReady = false;
  for (let k = 0; k < KILLS_PER_LANE; k++) {
    const early = rand() < 0.15;
    const run = await runAndKill(file, `L${index}R${k}`, early ? 0 : int(rand, 1, 60), int(rand, 20, 200));
    kills += 1;
    totalAcked += run.acked.length;
    if (run.ready && previousReady) readyPairs += 1;
    previousReady = run.ready;
    const files = logSet(file);
    const checkpoint = defaultCheckpointPath(file);
    const report = verifyAuditFiles(files, existsSync(checkpoint) ? { checkpoint } : {});
    // Torn tail is the only tolerated finding, and only as the very last line; besides it, the
    // records the killed writer wrote after its last checkpoint (or all, when it died before one).
    expect(report.problem, JSON.stringify(report.problem)).toBeUndefined();
    for (const w of report.warnings) expect(['torn_tail', 'uncovered_records', 'no_checkpoint']).toContain(w.code);
    const written = new Set(readRecords(files).map((r) => r.callId));
    const lost = run.acked.filter((id) => !written.has(id));
    expect(lost, `acknowledged but not in the log after kill ${k}`).toEqual([]);
  }
  // A final in-process start continues the chain and says the last run died.
  const sink = await openAuditSink({ file, maxFileBytes: MAX_FILE_BYTES });
  await sink.close();
  const files = logSet(file);
  const records = readRecords(files);
  const final = verifyAuditFiles(files, { checkpoint: defaultCheckpointPath(file) });
  expect(final.problem).toBeUndefined();
  expect(final.warnings).toEqual([]);
  if (previousReady) expect(records.at(-1)).toMatchObject({ type: 'audit.recovered' });
  expect(records.filter((r) => r.type === 'audit.recovered').length).toBeGreaterThanOrEqual(readyPairs);
  rmSync(dir, { recursive: true }); // kept when an assertion above failed, for inspection
  return { kills, acked: totalAcked, files: files.length };
}

describe('crash safety with real processes', () => {
  beforeAll(() => requireBuild());

  it(`loses no acknowledged record across ${LANES * KILLS_PER_LANE} SIGKILLs and keeps the chain valid`, async () => {
    const results = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
    const kills = results.reduce((a, r) => a + r.kills, 0);
    expect(kills).toBeGreaterThanOrEqual(200);
    // The kills must land while records are being written, not only before start-up.
    expect(results.reduce((a, r) => a + r.acked, 0)).toBeGreaterThan(kills * 10);
    expect(results.every((r) => r.files > 3)).toBe(true);
  }, 300_000);

  it('refuses a second live writer on the same log, and takes over the lock of a killed one', async () => {
    const dir = tempDir('warden-crash-');
    const file = join(dir, 'warden-audit.jsonl');
    const child = spawn(process.execPath, [WRITER, file, 'holder', String(MAX_FILE_BYTES), '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolveReady) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('ack holder-2')) resolveReady();
      });
    });
    await expect(openAuditSink({ file })).rejects.toMatchObject({ code: 'audit_locked' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const sink = await openAuditSink({ file });
    await sink.close();
    expect(readRecords([file]).at(-1)).toMatchObject({ type: 'audit.recovered', reason: 'unclean_shutdown', lastGoodSeq: 3 });
    expect(verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });
});
