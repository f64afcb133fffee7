import { chmodSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/warden-process.js';
import { runCli } from '../sessions/run-cli.js';

describe('warden audit keygen writes its private key safely', () => {
  it('--force over a world-readable key file leaves the new private key 0600, as it prints', async () => {
    const dir = tempDir('warden-akg-mode-');
    writeFileSync(join(dir, 'k.key'), 'old\n');
    chmodSync(join(dir, 'k.key'), 0o644);
    const r = await runCli(['audit', 'keygen', '--out', 'k', '--force'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(0600)');
    expect(statSync(join(dir, 'k.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'k.key'), 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('--force never writes the private key through a link planted at its path', async () => {
    const dir = tempDir('warden-akg-link-');
    const elsewhere = join(dir, 'elsewhere');
    writeFileSync(elsewhere, 'not a key\n');
    symlinkSync(elsewhere, join(dir, 'k.key'));
    const r = await runCli(['audit', 'keygen', '--out', 'k', '--force'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(elsewhere, 'utf8')).toBe('not a key\n');
    expect(lstatSync(join(dir, 'k.key')).isSymbolicLink()).toBe(false);
  });

  it('a dangling link at the key path counts as an existing file without --force (exit 1, not a raw EEXIST)', async () => {
    const dir = tempDir('warden-akg-dangling-');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'k.key'));
    const r = await runCli(['audit', 'keygen', '--out', 'k'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--force');
    expect(r.stderr).not.toContain('EEXIST');
  });

  it('creates the missing folders of --out, as token keygen does (keys/audit in a fresh project)', async () => {
    const dir = tempDir('warden-akg-dirs-');
    const r = await runCli(['audit', 'keygen', '--out', 'keys/audit'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(statSync(join(dir, 'keys', 'audit.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys', 'audit.pub')).isFile()).toBe(true);
  });

  it('a folder that cannot be created is exit 4 naming --out', async () => {
    const r = await runCli(['audit', 'keygen', '--out', '/proc/warden-no-such/k']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--out /proc/warden-no-such/k: cannot create the folder');
  });
});
