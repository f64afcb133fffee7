import { PassThrough } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, type CliIo } from '../../src/cli/cli-command.js';
import { policyCommand } from '../../src/cli/policy.js';
import { policyJsonSchemaText } from '../../src/policy/json-schema.js';

const ROOT = join(import.meta.dirname, '../..');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: ROOT };
  const code = await policyCommand.run(argv, io);
  return { code, out, err };
}

describe('warden policy', () => {
  it('check prints a summary of valid files', async () => {
    const r = await run('check', join(ROOT, 'policies/default.yaml'));
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/✓ .*default\.yaml: version 1\.0\.0, mode enforce/);
  });
  it('check --json names the file and key path of an invalid file', async () => {
    const bad = join(ROOT, 'test/fixtures/policy/bad/redos-regex.yaml');
    const r = await run('check', '--json', bad);
    expect(r.code).toBe(EXIT.config);
    const json = JSON.parse(r.out) as { ok: boolean; results: { error?: { keyPath: string; file: string } }[] };
    expect(json.ok).toBe(false);
    expect(json.results[0]?.error).toMatchObject({ file: bad, keyPath: 'rules[0].match.arguments[0].regex' });
  });
  it('check --merge loads overlays together with the first file', async () => {
    const dir = join(ROOT, 'test/fixtures/policy');
    const r = await run('check', '--merge', join(dir, 'scenario-policy.yaml'), join(dir, 'overlay.yaml'));
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain('2 rules');
    const bad = await run('check', '--merge', join(dir, 'scenario-policy.yaml'), join(dir, 'overlay-dup.yaml'));
    expect(bad.code).toBe(EXIT.config);
    expect(bad.err).toContain('overlay-dup.yaml: rules[0].id');
  });
  it('test passes shipped scenarios and fails a failing one with exit 1', async () => {
    const ok = await run('test', join(ROOT, 'examples/scenarios/stolen-token.yaml'));
    expect(ok.code).toBe(EXIT.ok);
    const bad = await run('test', join(ROOT, 'test/fixtures/policy/failing-scenario.yaml'));
    expect(bad.code).toBe(EXIT.failure);
    expect(bad.out).toContain('action: expected allow, got block');
  });
  it('test --json reports every step', async () => {
    const r = await run('test', '--json', join(ROOT, 'test/fixtures/policy/failing-scenario.yaml'));
    const json = JSON.parse(r.out) as { ok: boolean; scenarios: { steps: { passed: boolean }[] }[] };
    expect(json.ok).toBe(false);
    expect(json.scenarios[0]?.steps.map((s) => s.passed)).toEqual([true, false]);
  });
  it('test reports an invalid scenario file with exit 3', async () => {
    const r = await run('test', join(ROOT, 'test/fixtures/policy/bad/unknown-key.yaml'));
    expect(r.code).toBe(EXIT.config);
  });
  it('test refuses a principal with agentIssuer but no agent, naming the file and key', async () => {
    // Silently dropped, the scenario judged a direct user call while its author meant an agent
    // from another issuer's namespace: its steps passed or failed for the wrong reason.
    const dir = mkdtempSync(join(tmpdir(), 'warden-scenario-'));
    const file = join(dir, 'agent-issuer.yaml');
    writeFileSync(file, [
      'name: agent issuer without agent',
      `policy: ${join(ROOT, 'policies/default.yaml')}`,
      'principals: { pat: { user: pat@acme.example, agentIssuer: https://agents.example } }',
      'steps: [{ as: pat, tool: echo, expect: allow }]',
      '',
    ].join('\n'));
    const r = await run('test', '--json', file);
    expect(r.code).toBe(EXIT.config);
    const json = JSON.parse(r.out) as { errors: { error: { file: string; keyPath: string } }[] };
    expect(json.errors[0]?.error).toMatchObject({ file, keyPath: 'principals.pat.agentIssuer' });
  });
  it('schema prints the generated JSON Schema', async () => {
    const r = await run('schema');
    expect(r.out).toBe(policyJsonSchemaText());
  });
  it('bad usage exits 2 and --help exits 0', async () => {
    expect((await run()).code).toBe(EXIT.usage);
    expect((await run('check')).code).toBe(EXIT.usage);
    expect((await run('--bogus')).code).toBe(EXIT.usage);
    expect((await run('--help')).code).toBe(EXIT.ok);
  });
});

describe('warden policy prints no terminal control sequences from the files it reads', () => {
  /** ESC (OSC title / CSI), the 8-bit CSI and a bidi override: each drives or misleads a terminal. */
  const UNSAFE = /[\u001b\u009b\u202e\u0007]/;
  const hostile = (s: string) => `${s}\u001b]0;PWNED\u0007\u009b2J\u202e`;

  function files(): { dir: string; policy: string; scenario: string; broken: string } {
    const dir = mkdtempSync(join(tmpdir(), 'warden-policy-escapes-'));
    const policy = join(dir, 'p.yaml');
    writeFileSync(policy, `version: ${JSON.stringify(hostile('v'))}\nrules:\n  - { id: r1, match: { tools: [t] }, action: block }\n`);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, `version: 1\n${JSON.stringify(hostile('key'))}: 1\n`);
    const scenario = join(dir, 's.yaml');
    writeFileSync(scenario, [
      `name: ${JSON.stringify(hostile('scenario'))}`,
      'policy: p.yaml',
      'principals: { a: { user: alice } }',
      'steps:',
      `  - { as: a, tool: t, name: ${JSON.stringify(hostile('step'))}, expect: { action: allow, reasons: [${JSON.stringify(hostile('code'))}], rules: [${JSON.stringify(hostile('rule'))}] } }`,
    ].join('\n'));
    return { dir, policy, scenario, broken };
  }

  it('check, in text and JSON, for a valid and a broken file', async () => {
    const f = files();
    for (const args of [['check', f.policy, f.broken], ['check', '--json', f.policy, f.broken]]) {
      const r = await run(...args);
      expect(r.code).toBe(EXIT.config);
      expect(r.out + r.err).toContain('PWNED');
      expect(r.out + r.err).not.toMatch(UNSAFE);
    }
  });

  it('test, in text and JSON, for a failing step and an invalid scenario', async () => {
    const f = files();
    for (const args of [['test', f.scenario, f.broken], ['test', '--json', f.scenario, f.broken]]) {
      const r = await run(...args);
      expect(r.code).toBe(EXIT.config);
      expect(r.out + r.err).toContain('PWNED');
      expect(r.out + r.err).not.toMatch(UNSAFE);
    }
  });
});
