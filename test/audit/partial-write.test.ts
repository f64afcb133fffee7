import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { tempDir } from './audit-test-helpers.js';

/**
 * A full disk can cut a write(2) short after some whole records of a batch. Those records were
 * never acknowledged and the chain did not advance past them; left in the file, the next record
 * (audit.recovered) would reuse their seqs and fork the chain. Needs a tmpfs (mount permission).
 */
function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}
const unmount = (dir: string): void => void spawnSync('umount', [dir]);

const probe = join(tempDir('warden-audit-partial-'), 'mnt');
const canMount = mountTmpfs(probe, '64k');
if (canMount) unmount(probe);

/** Fills the file system: whole pages first, then whatever a one-byte file can still take. */
function fill(dir: string): void {
  for (const [name, chunk] of [['filler', 4096], ['filler-small', 1]] as const) {
    const fd = openSync(join(dir, name), 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(chunk, 0x61));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
  }
}

describe('a write cut short by a full disk', () => {
  it.runIf(canMount)('does not fork the chain: records of a failed batch are cut off, recovery continues after the last acknowledged one', async () => {
    const mnt = join(tempDir('warden-audit-partial-'), 'mnt');
    expect(mountTmpfs(mnt, '64k')).toBe(true);
    let sink: Awaited<ReturnType<typeof openAuditSink>> | undefined;
    try {
      const file = join(mnt, 'a.jsonl');
      // Small records: the free rest of the file's last page holds several whole ones of a batch.
      const ev = (i: number): { type: 'call.decision'; callId: string; action: string; pad: string } => ({ type: 'call.decision', callId: `c${i}`, action: 'allow', pad: 'x'.repeat(100) });
      sink = await openAuditSink({ file, checkpoint: { maxDelayMs: 0 } });
      const s = sink;
      sink.recordBatch([ev(1), ev(2), ev(3), ev(4)]);
      fill(mnt);
      let i = 10;
      expect(() => {
        for (;;) s.recordBatch([ev(i++), ev(i++), ev(i++), ev(i++)]);
      }).toThrow(expect.objectContaining({ code: 'audit_unavailable' }));
      const acknowledged = sink.lastSeq;
      // Nothing the sink did not acknowledge is left in the file.
      const seqs = (): number[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { seq: number }).seq);
      expect(seqs().at(-1)).toBe(acknowledged);
      rmSync(join(mnt, 'filler'));
      rmSync(join(mnt, 'filler-small'));
      await new Promise((r) => setTimeout(r, 150));
      sink.record(ev(99));
      await sink.close();
      expect(seqs()).toEqual(Array.from({ length: acknowledged + 2 }, (_, k) => k + 1));
      const report = verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) });
      expect(report.problem, JSON.stringify(report.problem)).toBeUndefined();
    } finally {
      // An open file keeps the mount busy: close first, or it would outlive the test.
      await sink?.close();
      unmount(mnt);
    }
  });
});
