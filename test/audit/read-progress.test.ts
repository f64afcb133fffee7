import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, encodeRecord } from '../../src/audit/record-codec.js';
import { PROGRESS_AFTER_MS, PROGRESS_EVERY_MS, readProgress } from '../../src/audit/read-progress.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { runVerify } from '../../src/audit/cli-verify.js';
import { manualClock, tempDir } from './audit-test-helpers.js';

/** A stream that records what is written; `isTTY` as a terminal would set it. */
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean; writes: string[] };
}

/** A clean chained log of `n` records. */
function log(n: number): string {
  const file = join(tempDir(), 'audit.jsonl');
  let prev = GENESIS_HASH;
  let text = '';
  for (let seq = 1; seq <= n; seq++) {
    const { line, hash } = encodeRecord({ type: 'call.decision', callId: `c${seq}`, action: 'allow', score: 5 }, { seq, ts: new Date(Date.UTC(2026, 10, 23) + seq).toISOString(), prev });
    prev = hash;
    text += line.endsWith('\n') ? line : `${line}\n`;
  }
  writeFileSync(file, text);
  return file;
}

describe('progress while reading a large audit log', () => {
  it('stays quiet for a read that ends within a second, then redraws one line and clears it before the result', () => {
    const file = log(50);
    const total = statSync(file).size;
    const clock = manualClock();
    const err = fakeStream(true);
    const p = readProgress(err, 'verifying', [file], clock.now);
    p.onRead(10);
    clock.advance(PROGRESS_AFTER_MS - 1);
    p.onRead(10);
    expect(err.writes).toEqual([]);
    clock.advance(1);
    p.onRead(Math.floor(total / 2) - 20);
    const half = Math.floor(total / 2);
    expect(err.writes).toEqual([`\r\x1b[2Kverifying: ${Math.round(half / 1024)} KiB of ${Math.round(total / 1024)} KiB (${Math.floor((half / total) * 100)}%)`]);
    // Not redrawn more often than every PROGRESS_EVERY_MS.
    p.onRead(1);
    expect(err.writes).toHaveLength(1);
    clock.advance(PROGRESS_EVERY_MS);
    // A reader that reads parts twice never shows 100% (or more) before it is done.
    p.onRead(total * 3);
    expect(err.writes.at(-1)).toMatch(/\(99%\)$/);
    p.done();
    expect(err.writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('writes nothing when stderr is not a terminal (a pipe or a log file gets no progress text)', () => {
    const clock = manualClock();
    const err = fakeStream(false);
    const p = readProgress(err, 'verifying', [log(5)], clock.now);
    clock.advance(10 * PROGRESS_AFTER_MS);
    p.onRead(1_000_000);
    p.done();
    expect(err.writes).toEqual([]);
  });

  it('verify reports every byte it reads, so the progress covers the whole set', () => {
    const file = log(300);
    let read = 0;
    const report = verifyAuditFiles([file], { onRead: (n) => (read += n), chunkBytes: 4096 });
    expect(report.ok).toBe(true);
    expect(read).toBeGreaterThanOrEqual(statSync(file).size);
  });

  it('a quick verify on a terminal prints its result and no progress text', async () => {
    const file = log(20);
    const out = fakeStream(true);
    const err = fakeStream(true);
    const code = await runVerify([file], { stdout: out, stderr: err, stdin: process.stdin, env: { NO_COLOR: '1' }, cwd: process.cwd() });
    expect(code).toBe(0);
    expect(err.writes).toEqual([]);
    expect(out.writes.join('')).toMatch(/^OK {3}20 records, seq 1\.\.20/m);
  });
});
