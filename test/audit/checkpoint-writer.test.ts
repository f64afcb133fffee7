import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCheckpointFile } from '../../src/audit/checkpoint.js';
import { defaultCheckpointPath } from '../../src/audit/log-files.js';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { tempDir } from './audit-test-helpers.js';

const decision = (i: number): { type: 'call.decision'; callId: string; action: string } => ({ type: 'call.decision', callId: `c${i}`, action: 'allow' });

/** Polls the checkpoint file until `ok` holds for it (background writes land a little later). */
async function checkpointWhen(path: string, ok: (seq: number) => boolean): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const seq = readCheckpointFile(path).seq;
    if (ok(seq)) return seq;
    await sleep(10);
  }
  throw new Error('checkpoint never reached the expected state');
}

describe('FileAuditSink checkpoints in the background', () => {
  it('moves the checkpoint forward after everyRecords records, never ahead of the log', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const cpPath = defaultCheckpointPath(file);
    const sink = await openAuditSink({ file, checkpoint: { everyRecords: 10 } });
    const start = readCheckpointFile(cpPath).seq;
    for (let i = 0; i < 25; i++) sink.record(decision(i));
    const seq = await checkpointWhen(cpPath, (s) => s >= start + 20);
    expect(seq).toBeLessThanOrEqual(sink.lastSeq);
    expect(readCheckpointFile(cpPath).closed).toBe(false);
    await sink.close();
    expect(readCheckpointFile(cpPath)).toMatchObject({ seq: sink.lastSeq, hash: sink.lastHash, closed: true });
    expect(verifyAuditFiles([file], { checkpoint: cpPath }).ok).toBe(true);
  });

  it('closing waits for a background write, so the closing checkpoint is the one left', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const cpPath = defaultCheckpointPath(file);
    const sink = await openAuditSink({ file, checkpoint: { everyRecords: 1 } });
    for (let i = 0; i < 500; i++) sink.record(decision(i));
    // Closed while background writes are still queued behind each other.
    await sink.close();
    expect(readCheckpointFile(cpPath)).toMatchObject({ seq: sink.lastSeq, closed: true });
    await sleep(50);
    expect(readCheckpointFile(cpPath)).toMatchObject({ seq: sink.lastSeq, closed: true });
    expect(readdirSync(join(file, '..')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(verifyAuditFiles([file], { checkpoint: cpPath }).ok).toBe(true);
  });

  it('is closed as soon as close() returns when nothing runs in the background', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const sink = await openAuditSink({ file });
    sink.record(decision(1));
    const closing = sink.close();
    expect(sink.healthy()).toBe(false);
    expect(() => sink.record(decision(2))).toThrow();
    await closing;
    await sink.close();
  });
});
