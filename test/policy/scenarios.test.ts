import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
