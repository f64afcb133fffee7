import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { runScenario } from '../../src/policy/scenario-runner.js';

const ROOT = join(import.meta.dirname, '../..');
const dirs = [join(ROOT, 'examples/scenarios'), join(ROOT, 'test/fixtures/policy/scenarios')];
const files = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)));

describe('every shipped scenario passes', () => {
  it('finds the shipped scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });
  it.each(files)('%s', async (file) => {
    const result = await runScenario(file);
    const failures = result.steps.filter((s) => !s.passed).map((s) => `${s.label} ${s.name}: ${s.mismatches.join('; ')}`);
    expect(failures).toEqual([]);
    expect(result.steps.some((s) => s.checked)).toBe(true);
  });
});

describe('a failing scenario reports a diff', () => {
  it('names the step and the expected vs actual action', async () => {
    const result = await runScenario(join(ROOT, 'test/fixtures/policy/failing-scenario.yaml'));
    expect(result.passed).toBe(false);
    const failed = result.steps.filter((s) => !s.passed);
    expect(failed.map((s) => s.label)).toEqual(['steps[1]']);
    expect(failed[0]?.mismatches).toEqual(['action: expected allow, got block', 'rules: expected nope, got [block-delete]']);
  });
});

describe('scenario data keeps every key it was written with', () => {
  it('arguments and claims keep an own __proto__ key (a scenario about prototype keys tests one)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'warden-scenario-proto-'));
    writeFileSync(join(dir, 'p.yaml'), [
      'version: 1',
      'defaults: { sensitivity: low, unclassifiedAction: allow }',
      'rules:',
      '  - { id: proto-arg, match: { tools: [t], arguments: [{ path: __proto__.admin, eq: true }] }, action: block }',
      '  - { id: proto-claim, match: { tools: [u], claims: [{ path: __proto__.admin, eq: true }] }, action: block }',
    ].join('\n'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(scenario, [
      'name: prototype keys',
      'policy: p.yaml',
      'principals:',
      '  a: { user: alice, claims: { __proto__: { admin: true } } }',
      'steps:',
      '  - { as: a, tool: t, arguments: { __proto__: { admin: true } }, expect: { action: block, rules: [proto-arg] } }',
      '  - { as: a, tool: t, arguments: { admin: true }, expect: allow }',
      '  - { as: a, tool: u, expect: { action: block, rules: [proto-claim] } }',
    ].join('\n'));
    const result = await runScenario(scenario);
    expect(result.steps.map((s) => [s.label, s.passed, s.mismatches])).toEqual([
      ['steps[0]', true, []],
      ['steps[1]', true, []],
      ['steps[2]', true, []],
    ]);
  });
});

describe('an expectation that could never fail is refused', () => {
  /** Writes a one-principal scenario with these steps against a small policy; returns its path. */
  async function scenarioWith(steps: string[]): Promise<string> {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'warden-scenario-expect-'));
    writeFileSync(join(dir, 'p.yaml'), [
      'version: 1',
      'defaults: { sensitivity: low, unclassifiedAction: allow }',
      'rules:',
      '  - { id: velocity, match: { tools: [pay], reasons: [rate.tool] }, action: block }',
    ].join('\n'));
    writeFileSync(join(dir, 's.yaml'), ['name: vacuous', 'policy: p.yaml', 'principals: { a: { user: alice } }', 'steps:', ...steps].join('\n'));
    return join(dir, 's.yaml');
  }
  async function refusal(steps: string[]): Promise<ConfigError> {
    const file = await scenarioWith(steps);
    const err = await runScenario(file).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(file);
    return err as ConfigError;
  }

  it('rejects a misspelt reason code under absent, which is never present and so always passes', async () => {
    const err = await refusal(['  - { as: a, tool: pay, expect: { action: allow, absent: [rate.tools] } }']);
    expect(err.keyPath).toBe('steps[0].expect.absent[0]');
    expect(err.message).toContain("did you mean 'rate.tool'");
  });

  it('rejects a misspelt reason code under absent in expectLast too', async () => {
    const err = await refusal(['  - { as: a, tool: pay, repeat: 2, expectLast: { absent: [burst.rates] } }']);
    expect(err.keyPath).toBe('steps[0].expectLast.absent[0]');
  });

  it('rejects a rule id the policy does not have under absentRules, which always passes', async () => {
    const err = await refusal([
      '  - { as: a, tool: pay, expect: allow }',
      '  - { as: a, tool: pay, expect: { absentRules: [velocty] } }',
    ]);
    expect(err.keyPath).toBe('steps[1].expect.absentRules[0]');
    expect(err.message).toContain("did you mean 'velocity'");
  });

  it('accepts codes added after rules and real rule ids', async () => {
    const file = await scenarioWith(['  - { as: a, tool: pay, expect: { action: allow, absent: [policy.unclassified, rate.tool], absentRules: [velocity] } }']);
    expect((await runScenario(file)).passed).toBe(true);
  });
});

describe('a step time no clock can show is refused', () => {
  it('names the step instead of judging it at an invalid date (an internal block under office hours)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'warden-scenario-time-'));
    writeFileSync(join(dir, 'p.yaml'), ['version: 1', 'defaults: { sensitivity: low, unclassifiedAction: allow }', 'anomalies: { context: { hours: { start: 0, end: 24, days: [0, 1, 2, 3, 4, 5, 6] } } }'].join('\n'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, ['name: far future', 'policy: p.yaml', 'principals: { a: { user: alice } }', 'steps:', '  - { as: a, tool: t, expect: allow }', '  - { as: a, tool: t, at: 999999999d, expect: allow }'].join('\n'));
    const err = await runScenario(file).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(file);
    expect((err as ConfigError).keyPath).toBe('steps[1].at');
  });
});
