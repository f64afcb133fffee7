import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpointFile, writeCheckpointFile } from '../../src/audit/checkpoint.js';
import { openTempExclusiveAsync } from '../../src/core/exclusive-temp.js';
import { tempDir } from '../helpers/warden-process.js';

// Atomic replaces write a temp file with a predictable name (pid) next to the target. Whoever can
// plant a symlink there must not get warden to truncate the file it points to.
describe('temp files of atomic replaces', () => {
  it('a symlink planted at the checkpoint temp name is not followed', () => {
    const dir = tempDir('warden-tmpx-');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const cpPath = join(dir, 'audit.checkpoint.json');
    symlinkSync(victim, `${cpPath}.${process.pid}.tmp`);
    writeCheckpointFile(cpPath, { v: 1, file: 'audit.jsonl', seq: 3, hash: 'a'.repeat(64), ts: new Date(0).toISOString(), closed: false }, false);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readCheckpointFile(cpPath).seq).toBe(3);
  });

  it('the background writer\'s temp file is not opened through a planted symlink either', async () => {
    const dir = tempDir('warden-tmpx-');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const tmp = join(dir, 'x.bg.tmp');
    symlinkSync(victim, tmp);
    const fh = await openTempExclusiveAsync(tmp, 0o644);
    await fh.writeFile('new');
    await fh.close();
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(tmp, 'utf8')).toBe('new');
  });
});
