import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runUntilExit } from '../helpers/ops-warden.js';
import { WARDEN_MAIN } from '../helpers/paths.js';
import { acmeConfig, tempDir } from '../helpers/warden-process.js';

describe('warden run with a log file it cannot open', () => {
  it('a logging.file that is a folder is a config error (exit 3, naming the key), not a crash that leaves the audit log unclosed', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    const configFile = join(dir, 'warden.yaml');
    writeFileSync(configFile, stringify(acmeConfig({ logging: { level: 'info', file: 'logs' }, audit: { file: 'audit.jsonl' } })));
    // stdin stays open (as with a real agent): only the log failure can end this run.
    const r = await runUntilExit(configFile, 15_000);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${configFile}: logging.file:`);
    expect(r.stderr).not.toContain('Unhandled');
    // Refused before anything was started: no audit log was opened, so none is left unclosed.
    expect(existsSync(join(dir, 'audit.jsonl'))).toBe(false);
  });
});

describe('warden run with a log file that is its own stdout', () => {
  it('refuses a logging.file that is the stdio protocol stream (exit 3), so no log line lands among MCP messages', () => {
    const dir = tempDir();
    const out = join(dir, 'agent-stdout.txt');
    const configFile = join(dir, 'warden.yaml');
    writeFileSync(configFile, stringify(acmeConfig({ logging: { level: 'info', file: out } })));
    const fd = openSync(out, 'a');
    try {
      // Whatever the path (/dev/stdout, /proc/self/fd/1 or, here, the file stdout is), the same file.
      const r = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { stdio: ['pipe', fd, 'pipe'], input: '', encoding: 'utf8', timeout: 15_000 });
      expect(r.status).toBe(3);
      expect(r.stderr).toContain(`${configFile}: logging.file:`);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(out, 'utf8')).toBe('');
  });
});

describe('warden run when writing its log file fails', () => {
  it('a log file that fails every write (/dev/full: ENOSPC) neither crashes nor hangs warden: it stops cleanly when the agent leaves', () => {
    const dir = tempDir();
    const configFile = join(dir, 'warden.yaml');
    writeFileSync(configFile, stringify(acmeConfig({ logging: { level: 'info', file: '/dev/full' }, audit: { file: 'audit.jsonl' } })));
    // stdin ends at once: warden starts, sees the agent gone and stops, logging all the way.
    const r = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { input: '', encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('/dev/full');
    const types = readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.at(-1)).toBe('warden.stop');
  });
});
