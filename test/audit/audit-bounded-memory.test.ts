import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';
import { writeBigLog, type BigLog } from '../helpers/audit-big-log.js';

// ~32 MB in 3 files. Measured on this set, the loading readers died with a 96 MB heap (verify
// still did at 128) and stats needed 64-96 MB; streaming runs in 24 MB, of which the CLI's own
// start-up is about 20. The cap leaves room for a slower GC, not for loading the set.
const TARGET_BYTES = 32 * 1024 * 1024;
const FILE_BYTES = 11 * 1024 * 1024;
const HEAP_MB = '48';

/** Runs `warden audit ...` in a process whose V8 heap is capped at HEAP_MB. */
function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, CLI, 'audit', ...args], {
    encoding: 'utf8', env: { ...process.env, NO_COLOR: '' }, maxBuffer: 16 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let log: BigLog;

beforeAll(() => {
  requireBuild();
  dir = tempDir('warden-big-');
  log = writeBigLog(dir, TARGET_BYTES, FILE_BYTES);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit commands on a log far larger than their heap', () => {
  it('verify walks the whole rotated set and its checkpoint', () => {
    expect(log.files.length).toBeGreaterThanOrEqual(3);
    const r = cli(['verify', log.active, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, records: log.records, lastSeq: log.records, checkpoint: { status: 'ok', seq: log.records } });
    expect(report.files.map((f: { file: string }) => basename(f.file))).toEqual(log.files.map((f) => basename(f)));
  }, 60_000);

  it('stats counts every call and decision', () => {
    const r = cli(['stats', '--file', log.active, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.calls).toBe(log.calls);
    expect(s.decisions).toEqual(log.decisions);
    expect(s.enforced).toEqual(log.decisions);
    expect(s.topBlockedTools).toEqual([{ tool: 'delete_file', decided: log.decisions.block, enforced: log.decisions.block }]);
  }, 60_000);

  it('query --json finds the rare user\'s calls in order; tail and show stream too', () => {
    const q = cli(['query', '--file', log.active, '--user', 'carol', '--json']);
    expect(q.code).toBe(0);
    expect((JSON.parse(q.stdout) as { callId: string }[]).map((c) => c.callId)).toEqual(log.carolCalls);
    const tail = cli(['tail', log.active, '-n', '3', '--json']);
    expect(tail.code).toBe(0);
    expect(tail.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual([log.records - 2, log.records - 1, log.records]);
    const show = cli(['show', log.carolCalls[0] as string, '--file', log.active, '--json']);
    expect(show.code).toBe(0);
    expect((JSON.parse(show.stdout) as { type: string }[]).map((x) => x.type)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.result']);
  }, 60_000);

  it('verify names a duplicated first record appended to the end of the set', () => {
    const first = readFileSync(log.files[0] as string, 'utf8').slice(0, 4096).split('\n')[0] as string;
    appendFileSync(log.active, `${first}\n`);
    const r = cli(['verify', log.active, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).problem).toMatchObject({ code: 'duplicate_record', file: log.active, seq: 1 });
  }, 60_000);
});
