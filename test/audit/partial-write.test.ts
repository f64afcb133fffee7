import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-sink.js';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { readRecords } from '../../src/audit/read-records.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { manualClock, tempDir } from './audit-test-helpers.js';
import { fillFileSystem, mountTmpfs, unmountTmpfs } from '../helpers/tiny-tmpfs.js';

/**
 * A write that fails part-way. On a file system that runs out of space inside a write, write(2)
 * first stores what fits (a short write) and the next one fails with ENOSPC. Whole records from
 * the failed batch were then left in the log while the sink, which had blocked the call, chained
 * its next record to the last one it had counted: two records with the same seq, and a log that
 * no longer verified. Needs mount permission for a small tmpfs (root, as in CI); skipped without.
 */
const mounts: string[] = [];
function mountTinyTmpfs(): string | undefined {
  const mnt = join(tempDir('warden-partial-'), 'mnt');
  if (!mountTmpfs(mnt, '16k')) return undefined;
  mounts.push(mnt);
  return mnt;
}
afterEach(() => {
  for (const m of mounts.splice(0)) unmountTmpfs(m);
});

const fill = fillFileSystem;

const canMount = (() => {
  const m = mountTinyTmpfs();
  if (m) unmountTmpfs(m);
  mounts.splice(0);
  return m !== undefined;
})();

const step = (type: AuditEvent['type'], i: number): AuditEvent => ({ type, callId: `c${i}`, sessionId: 's1', tool: 'echo' });

describe('audit write cut short by a full disk', () => {
  it.runIf(canMount)('leaves no uncounted record behind: the log verifies after recovery, seqs unique', async () => {
    const mnt = mountTinyTmpfs() as string;
    const file = join(mnt, 'audit.jsonl');
    const clock = manualClock();
    // The checkpoint elsewhere: only the log and the filler share the tiny file system.
    const checkpoint = join(tempDir('warden-partial-'), 'audit.checkpoint.json');
    const sink = await openAuditSink({ file, checkpoint: { file: checkpoint, everyRecords: 1000 } }, { clock: clock.now });
    try {
      for (let i = 0; i < 3; i++) sink.record(step('call.result', i));
      const committed = readFileSync(file);
      fill(join(mnt, 'filler'));
      // Far more than the room left in the log's last page: the first write stores part of it.
      const batch = Array.from({ length: 40 }, (_, i) => step('call.received', 100 + i));
      expect(() => sink.recordBatch(batch)).toThrow(/audit sink unavailable/);
      expect(readFileSync(file).equals(committed)).toBe(true);

      rmSync(join(mnt, 'filler'));
      clock.advance(60_000);
      sink.record(step('call.result', 9));
    } finally {
      await sink.close();
    }
    const seqs = readRecords([file]).map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    const report = verifyAuditFiles([file], { checkpoint });
    expect(report.problem, JSON.stringify(report.problem)).toBeUndefined();
    expect(readRecords([file]).find((r) => r.type === 'audit.recovered')).toMatchObject({ errorCode: 'ENOSPC', fileLastSeq: 3 });
  });

  it.runIf(canMount)('a recovery attempt that fails again continues the same outage (its start, reason and count)', async () => {
    const mnt = mountTinyTmpfs() as string;
    const file = join(mnt, 'audit.jsonl');
    const clock = manualClock();
    const checkpoint = join(tempDir('warden-partial-'), 'audit.checkpoint.json');
    const sink = await openAuditSink({ file, checkpoint: { file: checkpoint, everyRecords: 1000 } }, { clock: clock.now });
    const start = new Date(clock.now()).toISOString();
    try {
      // End the log exactly at a page boundary: once the disk is full, no byte of any record
      // fits (not even the small audit.recovered record), and nothing is torn.
      const pad = (n: number, i: number): AuditEvent => ({ ...step('call.result', i), reason: 'x'.repeat(n) });
      sink.record(pad(0, 0));
      const base = statSync(file).size;
      sink.record(pad(4096 - 2 * base, 1));
      expect(statSync(file).size).toBe(4096);
      fill(join(mnt, 'filler'));
      expect(() => sink.record(step('call.received', 2))).toThrow(/audit sink unavailable/);
      // Still full: the reopen works, the audit.recovered record does not fit.
      clock.advance(60_000);
      expect(() => sink.record(step('call.received', 3))).toThrow(/audit sink unavailable/);
      expect(sink.healthy()).toBe(false);
      rmSync(join(mnt, 'filler'));
      clock.advance(600_000);
      sink.record(step('call.result', 1));
    } finally {
      await sink.close();
    }
    const recovered = readRecords([file]).filter((r) => r.type === 'audit.recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ reason: 'write_failed', unavailableSince: start, rejectedRecords: 1 });
    expect(verifyAuditFiles([file], { checkpoint }).problem).toBeUndefined();
  });
});
