import { describe, expect, it, vi } from 'vitest';
import { basename, join } from 'node:path';

/**
 * A rotation links the full active file to its rotated name, then unlinks the active name. When
 * the unlink fails (EIO, a read-only remount), the sink becomes unavailable with the file under
 * both names. Its recovery must complete the rotation: reopening the active name as it is would
 * append the recovery record (and all later ones) into the rotated file, and the next rotation
 * would give that file a third name. unlink(2) cannot be made to fail for root in a temp folder,
 * so this one call is made to fail here.
 */
const failing = vi.hoisted(() => ({ unlinkOf: '' }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const unlinkSync = ((path: Parameters<typeof fs.unlinkSync>[0]) => {
    if (failing.unlinkOf !== '' && String(path) === failing.unlinkOf) {
      failing.unlinkOf = '';
      throw Object.assign(new Error('EIO: i/o error, unlink'), { code: 'EIO' });
    }
    fs.unlinkSync(path);
  }) as typeof fs.unlinkSync;
  return { ...fs, default: { ...fs, unlinkSync }, unlinkSync };
});

const { openAuditSink } = await import('../../src/audit/open-audit-sink.js');
const { defaultCheckpointPath, logSet } = await import('../../src/audit/log-files.js');
const { verifyAuditFiles } = await import('../../src/audit/verify-audit.js');
const { readRecords } = await import('../../src/audit/read-records.js');
const { captureLogger, manualClock, tempDir } = await import('./audit-test-helpers.js');
const { statSync } = await import('node:fs');

describe('a rotation whose unlink failed', () => {
  it('is completed when the sink recovers: the rotated file is not appended to, and the chain verifies', async () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    const clock = manualClock();
    const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger, clock: clock.now });
    failing.unlinkOf = file;
    let written = 0;
    let refused = 0;
    for (let i = 0; i < 30; i++) {
      try {
        sink.record({ type: 'call.decision', callId: `c${i}`, action: 'allow', pad: 'x'.repeat(100) });
        written += 1;
      } catch (err) {
        expect(err).toMatchObject({ code: 'audit_unavailable' });
        refused += 1;
        break;
      }
    }
    expect(refused).toBe(1);
    expect(sink.healthy()).toBe(false);
    const twin = logSet(file).at(-1) as string;
    expect(statSync(twin).nlink).toBe(2);
    const twinSize = statSync(twin).size;
    clock.advance(10_000);
    for (let i = 30; i < 60; i++) sink.record({ type: 'call.decision', callId: `c${i}`, action: 'allow', pad: 'x'.repeat(100) });
    await sink.close();
    // The rotated file kept exactly what it had when it was linked, under one name.
    expect(statSync(twin)).toMatchObject({ size: twinSize, nlink: 1 });
    const records = readRecords(logSet(file));
    // The records before the failure, audit.recovered, 30 more: each once, in order.
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: written + 1 + 30 }, (_, i) => i + 1));
    const recovered = records.find((r) => r.type === 'audit.recovered' && (r as unknown as { errorCode?: string }).errorCode === 'EIO');
    expect(recovered).toMatchObject({ reason: 'write_failed', rotationFinished: basename(twin) });
    expect(verifyAuditFiles(logSet(file), { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });
});
