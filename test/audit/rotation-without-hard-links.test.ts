import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';

/**
 * Rotation moves the active file with link(2) then unlink(2), which never overwrites. Some file
 * systems have no hard links at all (FAT/exFAT, some network and FUSE mounts: link fails with
 * EPERM or ENOTSUP). There a rotation must still happen - by rename to a name checked free -
 * rather than fail closed and block every call once the file is full. Such a file system cannot
 * be mounted here, so link(2) is made to fail as it would there.
 */
const linkFails = vi.hoisted(() => ({ code: '' }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const linkSync = ((existing: Parameters<typeof fs.linkSync>[0], path: Parameters<typeof fs.linkSync>[1]) => {
    if (linkFails.code !== '') throw Object.assign(new Error(`${linkFails.code}: operation not permitted, link`), { code: linkFails.code });
    fs.linkSync(existing, path);
  }) as typeof fs.linkSync;
  return { ...fs, default: { ...fs, linkSync }, linkSync };
});

const { moveToRotatedName } = await import('../../src/audit/rotate-file.js');
const { openAuditSink } = await import('../../src/audit/open-audit-sink.js');
const { logSet } = await import('../../src/audit/log-files.js');
const { verifyAuditFiles } = await import('../../src/audit/verify-audit.js');
const { captureLogger, manualClock, tempDir } = await import('./audit-test-helpers.js');
const { readFileSync, writeFileSync, existsSync } = await import('node:fs');

describe('rotation on a file system without hard links', () => {
  it.each(['EPERM', 'ENOTSUP'])('link fails with %s: the file is renamed to a free name, never over a taken one', (code) => {
    const dir = tempDir();
    const active = join(dir, 'warden-audit.jsonl');
    writeFileSync(active, 'active\n');
    // Someone else's file already sits at the first rotated name.
    writeFileSync(join(dir, 'warden-audit.1.jsonl'), 'theirs\n');
    linkFails.code = code;
    try {
      const moved = moveToRotatedName(active, 1);
      expect(moved).toBe(join(dir, 'warden-audit.2.jsonl'));
    } finally {
      linkFails.code = '';
    }
    expect(readFileSync(join(dir, 'warden-audit.1.jsonl'), 'utf8')).toBe('theirs\n');
    expect(readFileSync(join(dir, 'warden-audit.2.jsonl'), 'utf8')).toBe('active\n');
    expect(existsSync(active)).toBe(false);
  });

  it('a real I/O error from link still fails the rotation (closed)', () => {
    const dir = tempDir();
    const active = join(dir, 'warden-audit.jsonl');
    writeFileSync(active, 'active\n');
    linkFails.code = 'EIO';
    try {
      expect(() => moveToRotatedName(active, 1)).toThrow(/EIO/);
    } finally {
      linkFails.code = '';
    }
    expect(readFileSync(active, 'utf8')).toBe('active\n');
  });

  it('the sink keeps rotating and the chain verifies across the files', async () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger, clock: manualClock().now });
    linkFails.code = 'EPERM';
    try {
      for (let i = 0; i < 80; i++) sink.record({ type: 'call.decision', callId: `c${i}`, action: 'allow', pad: 'x'.repeat(100) });
      expect(sink.healthy()).toBe(true);
      await sink.close();
    } finally {
      linkFails.code = '';
    }
    expect(logSet(file).length).toBeGreaterThan(3);
    const report = verifyAuditFiles(logSet(file));
    expect(report).toMatchObject({ ok: true });
  });
});
