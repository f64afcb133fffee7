import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, WARDEN_MAIN } from '../../helpers/paths.js';

const warden = (...args: string[]) => spawnSync(process.execPath, [WARDEN_MAIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });

describe('warden policy test (CLI process)', () => {
  it('runs the shipped high-value-transaction scenario against policies/finance.yaml and exits 0', () => {
    const r = warden('policy', 'test', resolve(REPO_ROOT, 'examples/scenarios/high-value-transaction.yaml'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; scenarios: { passed: boolean; policyFiles: string[]; steps: { checked: boolean; passed: boolean; decision: { action: string; score: number; reasons: unknown[] } }[] }[] };
    expect(report.ok).toBe(true);
    const [scenario] = report.scenarios;
    expect(scenario!.passed).toBe(true);
    expect(scenario!.policyFiles.some((f) => f.endsWith('policies/finance.yaml'))).toBe(true);
    const checked = scenario!.steps.filter((s) => s.checked);
    expect(checked.length).toBeGreaterThan(0);
    // Every step carries a full decision: action, score and reasons.
    for (const s of scenario!.steps) expect(s.decision).toMatchObject({ action: expect.any(String), score: expect.any(Number), reasons: expect.any(Array) });
    expect(new Set(scenario!.steps.map((s) => s.decision.action)).size).toBeGreaterThan(1);
  });

  it('runs every shipped scenario in one invocation and exits 0', () => {
    const r = warden('policy', 'test', ...['bulk-export-burst', 'default-policy', 'devtools-guardrails', 'high-value-transaction', 'normal-use', 'privilege-escalation', 'stolen-token'].map((n) => `examples/scenarios/${n}.yaml`));
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/7 scenarios, (\d+)\/\1 checked steps passed/);
  });

  it('catches enumeration through completions with the shipped customer-data policy (completion-enumeration.yaml)', () => {
    const r = warden('policy', 'test', 'examples/scenarios/completion-enumeration.yaml', '--json');
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const steps = (JSON.parse(r.stdout) as { scenarios: { steps: { decision: { action: string; rules: string[] } }[] }[] }).scenarios[0]!.steps;
    const enumeration = steps.filter((s) => s.decision.rules.includes('customer-completion-enumeration'));
    expect(enumeration.length).toBeGreaterThan(0);
    for (const s of enumeration) expect(s.decision.action).toBe('block');
  });
});
