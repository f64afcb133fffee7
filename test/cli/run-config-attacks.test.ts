import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUntilExit } from '../helpers/ops-warden.js';
import { tempDir } from '../helpers/warden-process.js';

describe('warden run against hostile config files', () => {
  it('refuses a config that is a FIFO instead of waiting forever for a writer (exit 3)', async () => {
    const file = join(tempDir(), 'warden.yaml');
    execFileSync('mkfifo', [file]);
    const r = await runUntilExit(file, 10_000);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('not a regular file');
  });
});
