import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath, inspectTail, logSet } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { readRecords } from '../../src/audit/read-records.js';
import { ROOT, requireBuild, tempDir } from './audit-test-helpers.js';

/**
 * Start-up cuts a torn last line off the log and saves it. Someone who can append to the log
 * while warden is stopped can make that tail huge (GBs without a newline): held in memory to be
 * saved, it took a start-up down (and a restart loop with it). The tail is now scanned and
 * copied block by block, and a complete last line longer than any record is not read at all.
 * Measured in a child process (peak RSS): the test runner's own heap stays out of it.
 */
const START_ONCE = join(ROOT, 'test/fixtures/audit/start-once.mjs');
const TAIL_BYTES = 200 * 1024 * 1024;
/** Node plus the audit modules take about 50 MB; holding the tail took more than 250 MB. */
const MAX_RSS_KB = 140 * 1024;

interface StartOnce {
  ok: boolean;
  code?: string;
  maxRssKb: number;
}

function startOnce(file: string): StartOnce {
  return JSON.parse(execFileSync(process.execPath, [START_ONCE, file], { encoding: 'utf8', timeout: 120_000 })) as StartOnce;
}

/** A log of `count` records, closed cleanly. */
async function smallLog(count: number): Promise<string> {
  const file = join(tempDir(), 'warden-audit.jsonl');
  const sink = await openAuditSink({ file });
  for (let i = 0; i < count; i++) sink.record({ type: 'call.decision', callId: `c${i}`, action: 'allow' });
  await sink.close();
  return file;
}

describe('start-up on a log with a huge hostile tail', () => {
  beforeAll(() => requireBuild());

  it('a 200 MB tail without a newline is cut off and saved with bounded memory, and the chain verifies', async () => {
    const file = await smallLog(5);
    const good = statSync(file).size;
    // Sparse: 200 MB of zero bytes appended without a newline, written in no time.
    truncateSync(file, good + TAIL_BYTES);
    const run = startOnce(file);
    expect(run).toMatchObject({ ok: true });
    expect(run.maxRssKb).toBeLessThan(MAX_RSS_KB);
    const records = readRecords(logSet(file));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(records[5]).toMatchObject({ type: 'audit.recovered', reasons: ['torn_tail'], lastGoodSeq: 5, discardedBytes: TAIL_BYTES });
    const saved = (records[5] as unknown as { movedTo: string }).movedTo;
    expect(statSync(saved).size).toBe(TAIL_BYTES);
    expect(verifyAuditFiles(logSet(file), { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  }, 180_000);

  it('a 200 MB complete last line is refused as audit_corrupt without being read', async () => {
    const file = await smallLog(5);
    truncateSync(file, statSync(file).size + TAIL_BYTES);
    appendFileSync(file, '\n');
    const run = startOnce(file);
    expect(run).toMatchObject({ ok: false, code: 'audit_corrupt' });
    expect(run.maxRssKb).toBeLessThan(MAX_RSS_KB);
    // Refused before anything was cut or saved.
    expect(readdirSync(join(file, '..')).filter((n) => n.includes('.torn-'))).toEqual([]);
  }, 180_000);
});

describe('inspectTail with a small line bound', () => {
  it('does not read a last line longer than the bound, and reads one at the bound', async () => {
    const file = join(tempDir(), 'lines.txt');
    appendFileSync(file, `short\n${'x'.repeat(100)}\n`);
    const fd = openSync(file, 'r');
    try {
      expect(inspectTail(fd, 99)).toMatchObject({ lastLine: undefined, lastLineTooLong: true, tornBytes: 0 });
      expect(inspectTail(fd, 100)).toMatchObject({ lastLine: Buffer.from('x'.repeat(100)), lastLineTooLong: false });
    } finally {
      closeSync(fd);
    }
    const first = join(tempDir(), 'first.txt');
    appendFileSync(first, `${'y'.repeat(50)}\ntorn`);
    const fd2 = openSync(first, 'r');
    try {
      expect(inspectTail(fd2, 49)).toMatchObject({ lastLineTooLong: true, goodEnd: 51, tornBytes: 4 });
      expect(inspectTail(fd2, 50)).toMatchObject({ lastLine: Buffer.from('y'.repeat(50)), goodEnd: 51, tornBytes: 4 });
    } finally {
      closeSync(fd2);
    }
  });
});
