import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUntilExit } from '../helpers/ops-warden.js';
import { WARDEN_MAIN } from '../helpers/paths.js';
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

  it('escapes terminal control sequences from config keys and syntax errors in its error output', async () => {
    const dir = tempDir();
    const hostileKey = join(dir, 'key.yaml');
    // An OSC sequence (sets the window title; others write the clipboard) and a clear-screen CSI.
    writeFileSync(hostileKey, 'upstreams:\n  acme: {command: node}\ndangerouslyAllowAnonymous: true\n"\x1b]0;PWNED\x07\x1b[2J": 1\n');
    const badSyntax = join(dir, 'syntax.yaml');
    writeFileSync(badSyntax, 'upstreams: [\x1b[2J\u009b31m\n  x: y\n');
    for (const file of [hostileKey, badSyntax]) {
      const r = await runUntilExit(file, 10_000);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(file);
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(r.stderr).toContain('\\u001b');
    }
  });

  it('escapes an unknown command name before echoing it (exit 2)', () => {
    const r = spawnSync(process.execPath, [WARDEN_MAIN, '\x1b]0;PWNED\x07'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('\x1b');
    expect(r.stderr).toContain('\\u001b');
  });
});
