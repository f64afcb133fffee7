import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
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

describe('CLI usage errors say what is wrong', () => {
  it('a misspelt command, subcommand or option is exit 2 naming the likely intent', async () => {
    const cases: [string[], string][] = [
      [['polciy'], "did you mean 'policy'?"],
      [['audit', 'verfy'], "did you mean 'verify'?"],
      [['token', 'mintt'], "did you mean 'mint'?"],
      [['policy', 'chek', 'x.yaml'], "did you mean 'check'?"],
      [['pins', 'lst'], "did you mean 'list'?"],
      [['approvals', 'lst'], "did you mean 'list'?"],
      [['sessions', '--jsn'], "did you mean '--json'?"],
      [['revoke', '--usr', 'bob'], "did you mean '--user'?"],
      [['audit', 'verify', '--stirct'], "did you mean '--strict'?"],
      [['token', 'keygen', '--jsn'], "did you mean '--json'?"],
      [['run', '--confg', 'w.yaml'], "did you mean '--config'?"],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => {
      const [args, hint] = cases[i]!;
      expect({ args, code: r.code, hint: r.stderr.includes(hint) }).toEqual({ args, code: 2, hint: true });
    });
  });

  it('suggests nothing for a word unlike any command (no misleading guess)', async () => {
    const [cmd, sub] = await Promise.all([runCli(['frobnicate']), runCli(['audit', 'xyz'])]);
    expect([cmd.code, sub.code]).toEqual([2, 2]);
    expect(cmd.stderr + sub.stderr).not.toContain('did you mean');
  });

  it('rejects an inherited name (toString, constructor) as an audit subcommand: exit 2, not a crash', async () => {
    for (const name of ['toString', 'constructor']) {
      const r = await runCli(['audit', name]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`unknown subcommand '${name}'`);
    }
  });

  it('warden and warden audit without a (sub)command report the usage error on stderr like every other command', async () => {
    const results = await Promise.all([[], ['audit'], ['policy'], ['token'], ['approvals']].map((args) => runCli(args)));
    for (const r of results) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/: missing (sub)?command\n/);
    }
  });

  it('token, policy and approvals without what they need say which part is missing', async () => {
    const [token, check, allow] = await Promise.all([runCli(['token']), runCli(['policy', 'check']), runCli(['approvals', 'allow'])]);
    expect([token.code, check.code, allow.code]).toEqual([2, 2, 2]);
    expect(token.stderr).toContain('warden token: missing subcommand');
    expect(check.stderr).toContain('check needs at least one policy file');
    expect(allow.stderr).toContain('allow needs an approval or grant ID');
  });

  it('an option or argument the subcommand would silently ignore is exit 2 naming it', async () => {
    const pins = join(tempDir('warden-ignored-'), 'pins.json');
    writeFileSync(pins, '{}');
    const cases: [string[], string][] = [
      [['policy', 'test', '--merge', 'a.yaml'], '--merge only goes with check'],
      [['approvals', 'allow', 'apr_1', '--reason', 'looks fine'], '--reason only goes with deny'],
      [['approvals', 'deny', 'apr_1', '--remember', '15'], '--remember only goes with allow'],
      [['pins', 'list', '--digest', `sha256:${'a'.repeat(64)}`, '--file', pins], '--digest and --all only go with accept'],
      [['audit', 'show', 'c-1', 'c-2'], 'one CALL_ID at a time'],
      [['audit', 'tail', 'a.jsonl', 'b.jsonl'], 'one FILE at most'],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, { env: { WARDEN_ADMIN_TOKEN_FILE: '/nonexistent' } })));
    results.forEach((r, i) => {
      const [args, why] = cases[i]!;
      expect({ args, code: r.code, why: r.stderr.includes(why) }).toEqual({ args, code: 2, why: true });
    });
  });

  it('every command and audit subcommand --help states its exit codes', async () => {
    const helps = [['run'], ['token'], ['policy'], ['approve'], ['approvals'], ['audit'], ['sessions'], ['revoke'], ['pins'], ...['verify', 'tail', 'show', 'query', 'stats', 'keygen'].map((s) => ['audit', s])];
    const results = await Promise.all(helps.map((h) => runCli([...h, '--help'])));
    results.forEach((r, i) => expect({ help: helps[i], code: r.code, exitCodes: /Exit codes: 0/.test(r.stdout) }).toEqual({ help: helps[i], code: 0, exitCodes: true }));
  });

  it('warden help <command> prints that command\'s help', async () => {
    const r = await runCli(['help', 'audit', 'query']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: warden audit query');
  });
});

describe('CLI exit codes match what went wrong', () => {
  it('warden --help names exit 4 as the README does: unavailable or another runtime failure (keygen exits 4 when it cannot write)', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('4 unavailable or another runtime failure');
  });

  it('token keygen into a folder it cannot create is a runtime failure (4), not a usage error (2)', async () => {
    const dir = tempDir('warden-keygen-');
    writeFileSync(join(dir, 'a-file'), 'x');
    const r = await runCli(['token', 'keygen', '--out', join(dir, 'a-file', 'keys')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('ENOTDIR');
  });

  it('audit show on a log that does not exist is exit 3 naming the file, not "no such call" (1)', async () => {
    const missing = join(tempDir('warden-show-'), 'nope.jsonl');
    for (const json of [[], ['--json']]) {
      const r = await runCli(['audit', 'show', 'c-1', '--file', missing, ...json]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`${missing}: no such audit file`);
      expect(r.stdout).toBe('');
    }
  });

  it('audit query refuses stats-only options and stats refuses --limit, instead of ignoring them', async () => {
    const [query, stats] = await Promise.all([runCli(['audit', 'query', '--top', '3']), runCli(['audit', 'stats', '--limit', '3'])]);
    expect(query.code).toBe(2);
    expect(query.stderr).toContain('--top is an option of `warden audit stats`');
    expect(stats.code).toBe(2);
    expect(stats.stderr).toContain('--limit is an option of `warden audit query`');
  });

  it('audit readers given a directory or a FIFO as the log exit 3 under their own name, not 4 as a crash', async () => {
    const dir = tempDir('warden-readers-');
    const fifo = join(dir, 'fifo.jsonl');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const runs = [['query', '--file', dir], ['stats', '--file', dir], ['show', 'c-1', '--file', dir], ['tail', dir], ['query', '--file', fifo]];
    const results = await Promise.all(runs.map((args) => runCli(['audit', ...args])));
    results.forEach((r, i) => {
      const sub = runs[i]![0]!;
      expect({ sub, code: r.code, named: r.stderr.startsWith(`warden audit ${sub}: `) && r.stderr.includes('not a regular file') }).toEqual({ sub, code: 3, named: true });
    });
  });

  it('audit verify --public-key with a file that is no PEM key names the file, not an OpenSSL decoder error', async () => {
    const dir = tempDir('warden-pubkey-');
    const log = join(dir, 'a.jsonl');
    // A closed log with its checkpoint: the key is only read to check a checkpoint's signature.
    const sink = await openAuditSink({ file: log });
    sink.record({ type: 'warden.stop', reason: 'test' });
    await sink.close();
    writeFileSync(join(dir, 'jwks.json'), '{"keys":[]}');
    const r = await runCli(['audit', 'verify', log, '--public-key', join(dir, 'jwks.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${join(dir, 'jwks.json')}: not a PEM public key`);
    expect(r.stderr).not.toContain('routines');
  });

  it('policy test names the scenario whose policy file is broken, not only the policy file', async () => {
    const dir = tempDir('warden-scenario-');
    writeFileSync(join(dir, 'bad-policy.yaml'), 'version: "1"\nrules: [{ id: a, acton: block }]\n');
    writeFileSync(join(dir, 'uses-bad.yaml'), 'name: x\npolicy: bad-policy.yaml\nprincipals: { d: { user: u } }\nsteps: [{ as: d, tool: echo, expect: allow }]\n');
    const r = await runCli(['policy', 'test', 'uses-bad.yaml'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('uses-bad.yaml: policy: ');
    expect(r.stderr).toContain('bad-policy.yaml');
  });
});
