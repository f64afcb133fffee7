import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WARDEN_MAIN } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

function keygen(dir: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [WARDEN_MAIN, 'token', 'keygen', '--out', dir], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('warden token keygen with a broken jwks.json', () => {
  it.each([
    ['not JSON', 'not json\n'],
    ['keys not a list', '{"keys": "x"}\n'],
  ])('%s: exit 3 naming the file, no private key written, jwks.json untouched', (_name, content) => {
    const dir = tempDir();
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, content);
    const r = keygen(dir);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(jwks);
    expect(readdirSync(dir)).toEqual(['jwks.json']);
    expect(readFileSync(jwks, 'utf8')).toBe(content);
  });
});

describe('warden token keygen with a kid that already has a key', () => {
  const run = (dir: string, ...extra: string[]) => spawnSync(process.execPath, [WARDEN_MAIN, 'token', 'keygen', '--out', dir, '--kid', 'k1', ...extra], { encoding: 'utf8', timeout: 15_000 });

  it('refuses to overwrite the private key of an existing kid (exit 1), leaving key and jwks.json as they were', () => {
    const dir = tempDir();
    expect(run(dir).status).toBe(0);
    const key = readFileSync(join(dir, 'k1.private.jwk'), 'utf8');
    const jwks = readFileSync(join(dir, 'jwks.json'), 'utf8');
    const again = run(dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'k1.private.jwk'), 'utf8')).toBe(key);
    expect(readFileSync(join(dir, 'jwks.json'), 'utf8')).toBe(jwks);
  });

  it('replaces it with --force', () => {
    const dir = tempDir();
    expect(run(dir).status).toBe(0);
    const key = readFileSync(join(dir, 'k1.private.jwk'), 'utf8');
    expect(run(dir, '--force').status).toBe(0);
    expect(readFileSync(join(dir, 'k1.private.jwk'), 'utf8')).not.toBe(key);
    expect((JSON.parse(readFileSync(join(dir, 'jwks.json'), 'utf8')) as { keys: unknown[] }).keys).toHaveLength(1);
  });

  it('never writes the private key through a symlink planted at its path', () => {
    const dir = tempDir();
    const elsewhere = join(dir, 'readable-by-others.txt');
    writeFileSync(elsewhere, '');
    symlinkSync(elsewhere, join(dir, 'k1.private.jwk'));
    expect(run(dir, '--force').status).toBe(0);
    expect(readFileSync(elsewhere, 'utf8')).toBe('');
    expect(lstatSync(join(dir, 'k1.private.jwk')).isSymbolicLink()).toBe(false);
  });
});

describe('warden token keygen where the --out folder cannot be made', () => {
  // mkdir under /proc answers ENOENT though /proc exists: Node's recursive mkdir retried it forever.
  it.skipIf(!existsSync('/proc/self'))('a folder under /proc fails (exit 4, naming the path) instead of spinning forever', () => {
    const out = '/proc/warden-keygen-test/keys';
    const r = spawnSync(process.execPath, [WARDEN_MAIN, 'token', 'keygen', '--out', out], { encoding: 'utf8', timeout: 10_000 });
    expect(r.signal, 'killed by the timeout: keygen hung').toBeNull();
    expect(r.status).toBe(4);
    expect(r.stderr).toContain(`--out ${out}: cannot create the folder`);
    expect(r.stderr).toContain("mkdir '/proc/warden-keygen-test'");
  });

  it('still makes every missing folder of a nested --out', () => {
    const out = join(tempDir(), 'a', 'b', 'keys');
    expect(keygen(out).status).toBe(0);
    expect(readdirSync(out)).toContain('jwks.json');
  });
});
