import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { FileAuditSink } from '../../src/audit/file-audit-sink.js';

/** Runs once at the next listing of a folder (readdir): a rotation at exactly that moment. */
const atListing = vi.hoisted(() => ({ run: undefined as (() => void) | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readdirSync = ((...args: Parameters<typeof fs.readdirSync>) => {
    const run = atListing.run;
    atListing.run = undefined;
    run?.();
    return fs.readdirSync(...args);
  }) as typeof fs.readdirSync;
  return { ...fs, default: { ...fs, readdirSync }, readdirSync };
});

const { openAuditSink } = await import('../../src/audit/open-audit-sink.js');
const { defaultCheckpointPath, listRotated, logSet } = await import('../../src/audit/log-files.js');
const { verifyAuditFiles, verifyAuditSet } = await import('../../src/audit/verify-audit.js');
const { captureLogger, tempDir } = await import('./audit-test-helpers.js');
const { expandSet, streamRecords } = await import('../../src/audit/read-records.js');

/**
 * An operator runs `warden audit verify` on the log of a running warden. Verify lists the set,
 * then reads it file by file, which takes seconds on a large set; a rotation meanwhile moves the
 * active file to a new rotated name and starts a new active file under the old name. Opened by
 * name only when the walk reached it, the active path was the new file: the records of the file
 * just rotated were in no file verify read, and an intact log failed with `missing_file`.
 */
async function liveSet(): Promise<{ file: string; checkpoint: string; sink: FileAuditSink }> {
  const dir = tempDir();
  const file = join(dir, 'warden-audit.jsonl');
  const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger });
  for (let i = 0; i < 40; i++) sink.record({ type: 'call.decision', callId: `c${i}`, action: 'allow', pad: 'x'.repeat(100) });
  await sink.checkpointSettled();
  return { file, checkpoint: defaultCheckpointPath(file), sink };
}

/** An `onRead` hook that rotates the live log the first time verify reads, and whether it did. */
function rotationOnFirstRead(file: string, sink: FileAuditSink): { onRead: () => void; done: () => boolean } {
  let rotated = false;
  return {
    onRead: () => {
      if (rotated) return;
      rotated = true;
      rotateOnce(file, sink);
    },
    done: () => rotated,
  };
}

/** Writes records until the sink has rotated at least once more. */
function rotateOnce(file: string, sink: FileAuditSink): void {
  const before = listRotated(file).length;
  for (let i = 0; listRotated(file).length === before; i++) sink.record({ type: 'call.decision', callId: `r${i}`, action: 'allow', pad: 'y'.repeat(100) });
}

describe('verify on a live log that rotates while it reads', () => {
  it('a rotation while verify reads the set is no missing_file (files listed are read as they were)', async () => {
    const { file, checkpoint, sink } = await liveSet();
    const rotation = rotationOnFirstRead(file, sink);
    const report = verifyAuditFiles(logSet(file), {
      checkpoint,
      onRead: rotation.onRead,
    });
    await sink.close();
    expect(rotation.done()).toBe(true);
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
  });

  it('a rotation between listing the set and reading it is no missing_file (verifyAuditSet lists after the checkpoint)', async () => {
    const { file, checkpoint, sink } = await liveSet();
    const listedFirst = logSet(file);
    rotateOnce(file, sink);
    // Named as listed before the rotation: the rotated file is in no name of that list.
    expect(verifyAuditFiles(listedFirst, { checkpoint }).problem?.code).toBe('missing_file');
    // From the active name: the set is listed after the checkpoint is read.
    const report = verifyAuditSet(file, { checkpoint });
    const rotation = rotationOnFirstRead(file, sink);
    const during = verifyAuditSet(file, {
      checkpoint,
      onRead: rotation.onRead,
    });
    await sink.close();
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(during.problem).toBeUndefined();
    expect(during.ok).toBe(true);
    expect(verifyAuditSet(file, { checkpoint }).ok).toBe(true);
  });

  it('a rotation between opening the active file and listing the rotated ones reads the moved file once (no duplicate_record)', async () => {
    const { file, checkpoint, sink } = await liveSet();
    // verifyAuditSet opens the active file, then lists the folder: the rotation lands in between,
    // so the file opened as the active one is, by then, only the newest rotated file.
    atListing.run = () => rotateOnce(file, sink);
    const report = verifyAuditSet(file, { checkpoint });
    await sink.close();
    expect(atListing.run).toBeUndefined();
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});

describe('the reading commands on a live log that rotates', () => {
  it('a rotation between listing the set and opening it leaves no record out of tail, show, query and stats', async () => {
    const { file, sink } = await liveSet();
    const files = expandSet(file); // what the commands list first
    rotateOnce(file, sink);
    const expected = sink.lastSeq;
    await sink.close();
    const seqs = (options: Parameters<typeof streamRecords>[1]) => [...streamRecords(files, options)].map((r) => r.seq);
    // The names listed first miss the file the rotation moved.
    expect(seqs({}).length).toBeLessThan(expected + 1);
    // Listed again as they are opened: every record once, in order (close's records included).
    const all = seqs({ active: file });
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(all.length).toBeGreaterThanOrEqual(expected);
  });
});
