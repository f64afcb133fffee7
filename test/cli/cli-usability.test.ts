import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { upstreams } from '../helpers/paths.js';
import { runUntilExit, startStdioWarden, until } from '../helpers/ops-warden.js';
import { runCli } from '../sessions/run-cli.js';
import { tempDir } from '../helpers/warden-process.js';

describe('CLI usability', () => {
  it('pins list on a missing file names the path and exits 3 instead of "no pinned tools"', async () => {
    const r = await runCli(['pins', 'list', '--file', '/nonexistent/pins.json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/nonexistent/pins.json');
    expect(r.stdout).toBe('');
  });

  it('audit keygen does not overwrite an existing key pair without --force (exit 1, files unchanged)', async () => {
    const dir = tempDir('warden-keygen-');
    const first = await runCli(['audit', 'keygen', '--out', 'k'], { cwd: dir });
    expect(first.code).toBe(0);
    const key = readFileSync(join(dir, 'k.key'), 'utf8');
    const again = await runCli(['audit', 'keygen', '--out', 'k'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('--force');
    expect(again.stderr).not.toContain('EEXIST');
    expect(readFileSync(join(dir, 'k.key'), 'utf8')).toBe(key);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses anonymous mode on 0.0.0.0 at start-up, exit 3 naming the keys', async () => {
    const dir = tempDir('warden-open-');
    const configFile = join(dir, 'w.yaml');
    writeFileSync(configFile, stringify({ dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, listen: { stdio: false, http: { host: '0.0.0.0', port: 0 } } }));
    const r = await runUntilExit(configFile);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('listen.http.host');
    expect(r.stderr).toContain('dangerouslyAllowNonLoopback');
  });
});

describe('monitor mode is loud', () => {
  it('warns at start and when a reload turns enforcement off, and audits the mode', async () => {
    const dir = tempDir('warden-monitor-');
    const policy = join(dir, 'policy.yaml');
    const text = (mode: string): string => `version: "1"\nmode: ${mode}\ndefaults: { sensitivity: low, unclassifiedAction: block, high: approve, critical: block }\n`;
    writeFileSync(policy, text('monitor'));
    const configFile = join(dir, 'w.yaml');
    writeFileSync(configFile, stringify({ dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, policy: { files: ['policy.yaml'], watch: true }, audit: { file: 'audit.jsonl' }, pins: { onNew: 'allow' } }));
    const w = await startStdioWarden(configFile, dir);
    try {
      await until(() => w.stderr().includes('enforcement is OFF'), 10_000, 'the monitor warning at start');
      // Monitor: a call the policy blocks (unclassifiedAction: block) is forwarded.
      const r = await w.client.callTool({ name: 'echo', arguments: { message: 'x' } });
      expect(r.isError).toBeFalsy();
      writeFileSync(policy, text('enforce'));
      await until(() => w.stderr().includes('enforcement is back on'), 10_000, 'the enforce warning');
      writeFileSync(policy, `${text('monitor')}description: again\n`);
      await until(() => w.stderr().split('enforcement is OFF').length === 3, 10_000, 'the second monitor warning');
      const loaded = readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; mode?: string }).filter((r) => r.type === 'policy.loaded');
      expect(loaded.map((r) => r.mode)).toEqual(['monitor', 'enforce', 'monitor']);
    } finally {
      await w.close();
    }
  });
});
