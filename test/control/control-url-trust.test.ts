import { chmodSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { controlUrlFileProblem } from '../../src/control/control-url-file.js';
import { startStdioWarden, until } from '../helpers/ops-warden.js';
import { transparentGuardrails, upstreams } from '../helpers/paths.js';
import { runCli } from '../sessions/run-cli.js';
import { tempDir } from '../helpers/warden-process.js';

/**
 * The CLIs send the admin credential to whatever URL `control-url` names. The token file is
 * guarded by its permissions; the file that decides where the token goes must be too, or anyone
 * who can write it (a group-writable file or folder) receives the admin token on the operator's
 * next `warden sessions` / `approve` / `revoke`.
 */
describe('control-url trust', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  /** A listener standing in for whoever rewrote control-url: records every Authorization it gets. */
  async function listener(): Promise<{ url: string; seen: string[] }> {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"sessions":[]}');
    });
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', () => done()));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
  }

  function folder(url: string): { tokenFile: string; urlFile: string } {
    const dir = tempDir('warden-url-trust-');
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, `${'t'.repeat(43)}\n`, { mode: 0o600 });
    const urlFile = join(dir, 'control-url');
    writeFileSync(urlFile, `${url}\n`, { mode: 0o600 });
    return { tokenFile, urlFile };
  }

  it('a control-url only its owner can write is followed (the credential is sent there)', async () => {
    const { url, seen } = await listener();
    const { tokenFile } = folder(url);
    const r = await runCli(['sessions', '--token-file', tokenFile]);
    expect(r.code).toBe(0);
    expect(seen).toEqual([`Bearer ${'t'.repeat(43)}`]);
  });

  it('rejects a group- or world-writable control-url: the admin token is never sent to the URL it names', async () => {
    const { url, seen } = await listener();
    const { tokenFile, urlFile } = folder(url);
    chmodSync(urlFile, 0o666);
    for (const args of [['sessions'], ['revoke', '--user', 'u'], ['approvals', 'list']]) {
      const r = await runCli([...args, '--token-file', tokenFile]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(urlFile);
    }
    expect(seen).toEqual([]);
  });

  it('rejects a control-url that is a symbolic link (warden writes a regular file)', async () => {
    const { url, seen } = await listener();
    const { tokenFile, urlFile } = folder(url);
    const elsewhere = join(tempDir('warden-url-elsewhere-'), 'url');
    writeFileSync(elsewhere, `${url}\n`, { mode: 0o600 });
    unlinkSync(urlFile);
    symlinkSync(elsewhere, urlFile);
    const r = await runCli(['sessions', '--token-file', tokenFile]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(urlFile);
    expect(seen).toEqual([]);
  });

  it('trusts only the owner of the token file or the user running the CLI', () => {
    const file = (uid: number, mode = 0o100600) => ({ uid, mode, isFile: () => true });
    expect(controlUrlFileProblem(file(1000), [1000])).toBeUndefined();
    expect(controlUrlFileProblem(file(1000), [0, 1000])).toBeUndefined();
    expect(controlUrlFileProblem(file(1001), [0, 1000])).toMatch(/owned by another user/);
    expect(controlUrlFileProblem(file(1000, 0o100620), [1000])).toMatch(/writable by group or others/);
    expect(controlUrlFileProblem(file(1000, 0o100602), [1000])).toMatch(/writable by group or others/);
    expect(controlUrlFileProblem({ uid: 1000, mode: 0o120777, isFile: () => false }, [1000])).toMatch(/not a regular file/);
  });
});

describe('control-url written by warden', () => {
  it('replaces a planted control-url symlink instead of overwriting the file it points to', async () => {
    const dir = tempDir('warden-url-plant-');
    mkdirSync(join(dir, '.warden'));
    const victim = join(tempDir('warden-url-victim-'), 'precious');
    writeFileSync(victim, 'precious data\n', { mode: 0o600 });
    const urlFile = join(dir, '.warden', 'control-url');
    symlinkSync(victim, urlFile);
    const configFile = join(dir, 'warden.yaml');
    writeFileSync(configFile, stringify({ dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, logging: { level: 'warn' }, audit: { file: '.warden/audit.jsonl' }, ...transparentGuardrails() }));
    const w = await startStdioWarden(configFile, dir);
    try {
      await until(() => !lstatSync(urlFile).isSymbolicLink(), 10_000, 'control-url replaced');
      expect(readFileSync(victim, 'utf8')).toBe('precious data\n');
      const written = lstatSync(urlFile);
      expect(written.isFile()).toBe(true);
      expect(written.mode & 0o777).toBe(0o600);
      expect(readFileSync(urlFile, 'utf8')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    } finally {
      await w.close();
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious data\n');
  });
});
