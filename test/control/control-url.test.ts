import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { transparentGuardrails, upstreams } from '../helpers/paths.js';
import { runUntilExit, startStdioWarden, until } from '../helpers/ops-warden.js';
import { runCli } from '../sessions/run-cli.js';
import { tempDir } from '../helpers/warden-process.js';

function writeConfig(dir: string, name: string, auditFile: string): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: upstreams.acme() },
    logging: { level: 'info' },
    audit: { file: auditFile },
    ...transparentGuardrails(),
  }));
  return file;
}

const read = (file: string): string | undefined => (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);

describe('control-url shared by several wardens in one folder', () => {
  it('the newer warden takes the file, gives it back on exit, and the last one removes it', async () => {
    const dir = tempDir('warden-ctl-');
    const urlFile = join(dir, '.warden', 'control-url');
    const tokenFile = join(dir, '.warden', 'admin-token');
    const first = await startStdioWarden(writeConfig(dir, 'a.yaml', '.warden/a.jsonl'), dir);
    let second: Awaited<ReturnType<typeof startStdioWarden>> | undefined;
    try {
      await until(() => read(urlFile) !== undefined, 10_000, 'the first control-url');
      const firstUrl = read(urlFile)!;
      second = await startStdioWarden(writeConfig(dir, 'b.yaml', '.warden/b.jsonl'), dir);
      await until(() => read(urlFile) !== firstUrl, 10_000, 'the second control-url');
      // The newer warden says another one was displaced, and how to reach it (logged asynchronously).
      const newer = second;
      await until(() => newer.stderr().includes('another running warden'), 10_000, 'the takeover warning');
      expect(second.stderr()).toContain(firstUrl);
      expect((await runCli(['sessions', '--token-file', tokenFile])).code).toBe(0);
      await second.close();
      second = undefined;
      // The older warden still runs: the file names it again, so the CLIs reach it.
      await until(() => read(urlFile) === firstUrl, 10_000, 'the file given back');
      expect((await runCli(['sessions', '--token-file', tokenFile])).code).toBe(0);
    } finally {
      await second?.close();
      await first.close();
    }
    // A warden that stops removes the file that names it: no stale URL for the CLIs.
    await until(() => !existsSync(urlFile), 10_000, 'the control-url removed');
  });

  it('a stale control-url (a killed warden) is reported as such, naming the file', async () => {
    const dir = tempDir('warden-stale-');
    const w = await startStdioWarden(writeConfig(dir, 'a.yaml', '.warden/a.jsonl'), dir);
    const urlFile = join(dir, '.warden', 'control-url');
    await until(() => read(urlFile) !== undefined, 10_000, 'control-url');
    const url = read(urlFile)!;
    await w.close();
    await until(() => !existsSync(urlFile), 10_000, 'control-url removed');
    // As a SIGKILLed warden leaves it: the URL of a port nobody listens on any more.
    writeFileSync(urlFile, `${url}\n`);
    const r = await runCli(['sessions', '--token-file', join(dir, '.warden', 'admin-token')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(urlFile);
    expect(r.stderr).toContain('not running');
  });

  it('no control-url beside the token file: says where it looked instead of trying a default port', async () => {
    const dir = tempDir('warden-nourl-');
    const tokenFile = join(dir, 'badtok');
    writeFileSync(tokenFile, 'x'.repeat(40), { mode: 0o600 });
    const runs = await Promise.all([['sessions'], ['revoke', '--user', 'u'], ['approvals', 'list']].map((args) => runCli([...args, '--token-file', tokenFile])));
    for (const r of runs) {
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(join(dir, 'control-url'));
      expect(r.stderr).not.toContain('7391');
    }
  });

  it('a second stdio warden on the same audit file is told to use its own audit.file (exit 4)', async () => {
    const dir = tempDir('warden-lock-');
    const configFile = writeConfig(dir, 'w.yaml', '.warden/audit.jsonl');
    const first = await startStdioWarden(configFile, dir);
    try {
      const second = await runUntilExit(configFile);
      expect(second.code).toBe(4);
      expect(second.stderr).toContain('audit.file');
      expect(second.stderr).toContain(configFile);
    } finally {
      await first.close();
    }
  });
});

describe('CLI exit codes agree across control commands', () => {
  it('a rejected credential is 1 and a missing token file is 3 for sessions, revoke and approvals', async () => {
    const dir = tempDir('warden-exit-');
    const w = await startStdioWarden(writeConfig(dir, 'a.yaml', '.warden/a.jsonl'), dir);
    try {
      const urlFile = join(dir, '.warden', 'control-url');
      await until(() => read(urlFile) !== undefined, 10_000, 'control-url');
      const url = read(urlFile)!;
      const wrong = join(dir, 'wrong-token');
      writeFileSync(wrong, 'y'.repeat(43), { mode: 0o600 });
      const commands = [['sessions'], ['revoke', '--user', 'u'], ['approvals', 'list']];
      const [refused, missing, approve] = await Promise.all([
        Promise.all(commands.map((args) => runCli([...args, '--url', url, '--token-file', wrong]))),
        Promise.all(commands.map((args) => runCli([...args, '--url', url, '--token-file', join(dir, 'missing')]))),
        runCli(['approve', '--url', url, '--token-file', join(dir, 'missing')]),
      ]);
      refused.forEach((r, i) => {
        expect(r.code, `${commands[i]![0]} with a wrong token`).toBe(1);
        expect(r.stderr).toContain(wrong);
      });
      missing.forEach((r, i) => {
        expect(r.code, `${commands[i]![0]} without a token file`).toBe(3);
        expect(r.stderr).toContain(join(dir, 'missing'));
      });
      expect(approve.code).toBe(3);
    } finally {
      await w.close();
    }
  });
});
