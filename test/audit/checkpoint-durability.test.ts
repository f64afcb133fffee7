import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';

/**
 * With `fsync: { everyRecords: N }` a power loss may take the last N-1 records: that is the
 * bargain. The checkpoint, though, is fsynced on its own and renamed into place at least once a
 * second; it covered records the log had not flushed yet. After a power loss the durable
 * checkpoint named records the log no longer had, the next start recorded `checkpoint_ahead`,
 * and verify failed that log with `truncated_tail` for good, as if someone had cut it. A
 * checkpoint may only be as durable as the records it covers: the log is flushed before it.
 * Power cannot be cut in a test: every fsync of the log and every checkpoint rename are watched.
 */
const watched = vi.hoisted(() => ({ log: '', flushedSize: -1, renames: [] as { flushedSize: number; logSize: number }[] }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fsyncSync = ((fd: number) => {
    fs.fsyncSync(fd);
    const st = fs.fstatSync(fd);
    if (watched.log !== '' && fs.existsSync(watched.log) && st.ino === fs.statSync(watched.log).ino) watched.flushedSize = st.size;
  }) as typeof fs.fsyncSync;
  const renameSync = ((from: string, to: string) => {
    if (watched.log !== '' && String(to).endsWith('.checkpoint.json')) watched.renames.push({ flushedSize: watched.flushedSize, logSize: fs.statSync(watched.log).size });
    fs.renameSync(from, to);
  }) as typeof fs.renameSync;
  return { ...fs, default: { ...fs, fsyncSync, renameSync }, fsyncSync, renameSync };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>();
  const { statSync } = await import('node:fs');
  const rename = (async (from: string, to: string) => {
    if (watched.log !== '' && String(to).endsWith('.checkpoint.json')) watched.renames.push({ flushedSize: watched.flushedSize, logSize: statSync(watched.log).size });
    await fsp.rename(from, to);
  }) as typeof fsp.rename;
  return { ...fsp, default: { ...fsp, rename }, rename };
});

const { openAuditSink } = await import('../../src/audit/open-audit-sink.js');
const { captureLogger, tempDir } = await import('./audit-test-helpers.js');

const record = (i: number): { type: 'call.decision'; callId: string; action: string } => ({ type: 'call.decision', callId: `c${i}`, action: 'allow' });

describe('the checkpoint is never more durable than the records it covers', () => {
  it('fsync every 64 records: the log is flushed before a checkpoint written now (start-up, close, on demand)', async () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    watched.log = file;
    watched.flushedSize = -1;
    watched.renames = [];
    // A run without fsync that crashed (no close): its records may be in the page cache only.
    const crashed = await openAuditSink({ file, fsync: 'never', checkpoint: { maxDelayMs: 0 } }, { logger: captureLogger().logger });
    for (let i = 0; i < 5; i++) crashed.record(record(i));
    watched.renames = [];
    const sink = await openAuditSink({ file, fsync: { everyRecords: 64 }, checkpoint: { maxDelayMs: 0 } }, { logger: captureLogger().logger });
    expect(watched.renames).toHaveLength(1);
    expect(watched.renames[0]?.logSize).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) sink.record(record(i));
    sink.checkpoint();
    for (let i = 10; i < 20; i++) sink.record(record(i));
    await sink.close();
    expect(watched.renames.length).toBeGreaterThanOrEqual(3);
    // An empty log (the first start) has nothing to flush.
    for (const r of watched.renames) expect(Math.max(r.flushedSize, 0)).toBe(r.logSize);
  });

  it('fsync every 64 records: the log is flushed before a background checkpoint (count and timer)', async () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    watched.log = file;
    watched.flushedSize = -1;
    const sink = await openAuditSink({ file, fsync: { everyRecords: 64 }, checkpoint: { everyRecords: 10, maxDelayMs: 20 } }, { logger: captureLogger().logger });
    watched.renames = [];
    for (let i = 0; i < 10; i++) sink.record(record(i)); // the count checkpoint
    await sink.checkpointSettled();
    for (let i = 10; i < 13; i++) sink.record(record(i)); // the timed one
    await new Promise((r) => setTimeout(r, 100));
    await sink.checkpointSettled();
    expect(watched.renames).toHaveLength(2);
    for (const r of watched.renames) expect(r.flushedSize).toBe(r.logSize);
    await sink.close();
  });
});
