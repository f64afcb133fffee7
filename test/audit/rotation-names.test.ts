import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath, logSet } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { readRecords } from '../../src/audit/read-records.js';
import { captureLogger, tempDir } from './audit-test-helpers.js';

/**
 * Rotation renames the active file to `<base>.N.jsonl`, N one more than the highest index found.
 * A file planted in the log's folder (a shared, sticky folder lets another user create files
 * there) must not make a rotation land on an existing name: rename(2) replaces its target, and
 * each rotation would then destroy the previous rotated file.
 */
describe('rotation never replaces an existing file', () => {
  it('a planted file with an index beyond 2^53 does not make rotations overwrite each other', async () => {
    const dir = tempDir();
    const file = join(dir, 'warden-audit.jsonl');
    // 1e20 + 1 === 1e20 in floating point: every rotation would pick this same name.
    writeFileSync(join(dir, 'warden-audit.100000000000000000000.jsonl'), '');
    const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger });
    for (let i = 0; i < 60; i++) sink.record({ type: 'call.decision', callId: `c${i}`, action: 'allow', pad: 'x'.repeat(100) });
    await sink.close();
    const seqs = readRecords(logSet(file)).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(verifyAuditFiles(logSet(file), { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });

  it('a planted file at the last exact index blocks rotation (fail closed) instead of overwriting', async () => {
    const dir = tempDir();
    const file = join(dir, 'warden-audit.jsonl');
    const planted = join(dir, `warden-audit.${Number.MAX_SAFE_INTEGER}.jsonl`);
    writeFileSync(planted, '');
    const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger });
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      try {
        sink.record({ type: 'call.decision', callId: `c${i}`, action: 'allow', pad: 'x'.repeat(100) });
      } catch (err) {
        expect(err).toMatchObject({ code: 'audit_unavailable' });
        refused += 1;
      }
    }
    await sink.close();
    expect(refused).toBeGreaterThan(0);
    expect(sink.healthy()).toBe(false);
    // Every record the sink acknowledged is still there; nothing was renamed over.
    expect(readFileSync(planted, 'utf8')).toBe('');
    const seqs = readRecords(logSet(file)).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 40 - refused }, (_, i) => i + 1));
  });
});
