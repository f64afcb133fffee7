import { describe, expect, it } from 'vitest';
import type { Action, Sensitivity } from '../../src/core/decision.js';
import type { CompiledPolicy } from '../../src/policy/compiled-policy.js';
import { evaluate, type EvaluateInput } from '../../src/policy/evaluate.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);

const POLICY = policyFrom(`
version: t1
thresholds: { throttle: 50, approve: 70, block: 90 }
sensitivity:
  - { tools: [echo, read], level: low, class: read }
  - { tools: [write], level: medium, class: write }
  - { tools: [pay], level: high, class: payments }
  - { tools: [pay], when: [{ path: amount, gt: 10000 }], level: critical }
  - { tools: [shell], level: critical }
rules:
  - { id: allow-pay-small, match: { tools: [pay], arguments: [{ path: amount, lte: 100 }] }, action: allow }
  - { id: approve-pay-medium, match: { tools: [pay], arguments: [{ path: amount, gt: 100 }] }, action: approve }
  - { id: throttle-write, match: { tools: [write], users: ['bob*'] }, action: throttle }
  - { id: block-write-etc, match: { tools: [write], arguments: [{ path: path, glob: '/etc/**' }] }, action: block }
  - { id: allow-write-etc, match: { tools: [write], arguments: [{ path: path, glob: '/etc/**' }] }, action: allow }
  - { id: allow-shell-admins, match: { tools: [shell], claims: [{ path: groups, contains: admin }] }, action: allow }
  - { id: block-high-score, match: { score: { gte: 60 } }, action: block }
  - { id: rate-throttle, match: { reasons: [rate.tool] }, action: throttle }
`);

function decide(policy: CompiledPolicy, over: Partial<EvaluateInput> & { tool: string; args?: Record<string, unknown> }) {
  return evaluate(policy, {
    principal: over.principal ?? principal(),
    call: { upstream: 'acme', tool: over.tool, arguments: over.args ?? {}, toolDefinition: READ_ONLY },
    signals: over.signals ?? signals(),
    now: over.now ?? NOW,
  });
}

describe('evaluate: table of decisions', () => {
  const rows: [string, Parameters<typeof decide>[1], Action, Sensitivity, string[]][] = [
    ['low tool, quiet signals', { tool: 'echo' }, 'allow', 'low', []],
    ['medium tool', { tool: 'write', args: { path: '/tmp/x' } }, 'allow', 'medium', []],
    ['rule throttles by user glob', { tool: 'write', principal: principal({ user: 'bobby' }) }, 'throttle', 'medium', ['throttle-write']],
    ['block beats allow for the same call', { tool: 'write', args: { path: '/etc/passwd' } }, 'block', 'medium', ['block-write-etc', 'allow-write-etc']],
    ['explicit allow lets a small high call through', { tool: 'pay', args: { amount: 50 } }, 'allow', 'high', ['allow-pay-small']],
    ['approve rule for medium amount', { tool: 'pay', args: { amount: 500 } }, 'approve', 'high', ['approve-pay-medium']],
    ['numeric string cannot slip under a limit', { tool: 'pay', args: { amount: '50000' } }, 'block', 'critical', ['approve-pay-medium']],
    ['argument condition raises to critical -> floor blocks', { tool: 'pay', args: { amount: 20000 } }, 'block', 'critical', ['approve-pay-medium']],
    ['critical without allow rule is blocked by the floor', { tool: 'shell' }, 'block', 'critical', []],
    ['critical with explicit allow rule', { tool: 'shell', principal: principal({ claims: { groups: ['admin'] } }) }, 'allow', 'critical', ['allow-shell-admins']],
    ['unclassified tool needs approval', { tool: 'mystery' }, 'approve', 'high', []],
    ['anomaly weights cross a threshold', { tool: 'echo', signals: signals({ context: { addressChanged: true, clientChanged: true } }) }, 'throttle', 'low', []],
    ['score rule fires on the computed score', { tool: 'write', signals: signals({ context: { addressChanged: true, clientChanged: true } }) }, 'block', 'medium', ['block-high-score']],
    ['reason rule fires on the anomaly code', { tool: 'echo', signals: signals({ rate: { tool: 61 } }) }, 'throttle', 'low', ['rate-throttle']],
  ];
  it.each(rows)('%s', (_name, input, action, sensitivity, rules) => {
    const d = decide(POLICY, input);
    expect(d.action).toBe(action);
    expect(d.enforced).toBe(action);
    expect(d.sensitivity).toBe(sensitivity);
    expect(d.rules).toEqual(rules);
    expect(d.policyHash).toBe(POLICY.hash);
    expect(d.score).toBe(Math.min(100, d.reasons.reduce((s, r) => s + r.weight, 0)));
  });
});

describe('evaluate: floors and defaults', () => {
  it('thresholds alone never allow a high tool: the floor applies without an allow rule', () => {
    const d = decide(POLICY, { tool: 'pay', args: {} });
    expect(d.action).toBe('approve');
    expect(d.reasons.map((r) => r.code)).toContain('policy.implicit_high');
  });

  it('unclassified tools are not allowed out of the box', () => {
    const p = policyFrom('version: 1');
    const d = decide(p, { tool: 'anything' });
    expect(d.action).not.toBe('allow');
    expect(d.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['sensitivity.unclassified', 'policy.unclassified']));
  });

  it('an explicit allow rule lifts the unclassified floor', () => {
    const p = policyFrom('version: 1\ndefaults: { sensitivity: medium }\nrules: [{ id: ok, match: { tools: [anything] }, action: allow }]');
    expect(decide(p, { tool: 'anything' }).action).toBe('allow');
  });

  it('an unhealthy state store blocks high-risk tools (fail closed)', () => {
    const d = decide(POLICY, { tool: 'pay', args: { amount: 5 }, signals: signals({ storeHealthy: false }) });
    expect(d.action).toBe('block');
    expect(d.reasons.map((r) => r.code)).toContain('state.unavailable');
    expect(decide(POLICY, { tool: 'echo', signals: signals({ storeHealthy: false }) }).action).toBe('allow');
  });
});

describe('evaluate: annotations are untrusted hints', () => {
  const p = policyFrom('version: 1\nsensitivity: [{ tools: [t], level: low }, { tools: [h], level: high }]\nrules: [{ id: h, match: { tools: [h] }, action: allow }]');
  const call = (tool: string, annotations: Record<string, unknown> | undefined) =>
    evaluate(p, { principal: principal(), call: { upstream: 'u', tool, arguments: {}, toolDefinition: { name: tool, annotations } }, signals: signals(), now: NOW });

  it('missing hints count as spec defaults (destructive) and raise risk', () => {
    const d = call('t', undefined);
    expect(d.sensitivity).toBe('medium');
    expect(d.reasons.map((r) => r.code)).toContain('annotation.destructive');
  });
  it('a readOnly hint does not lower a high classification', () => {
    expect(call('h', { readOnlyHint: true, destructiveHint: false, openWorldHint: false }).sensitivity).toBe('high');
  });
  it('a non-boolean hint is treated as missing', () => {
    expect(call('t', { readOnlyHint: 'yes' }).sensitivity).toBe('medium');
  });
  it('readOnly hint on a low tool keeps it low', () => {
    expect(call('t', { readOnlyHint: true, openWorldHint: false }).sensitivity).toBe('low');
  });
});

describe('evaluate: modes', () => {
  it('monitor policy: action is what policy decided, enforced is allow', () => {
    const p = policyFrom('version: 1\nmode: monitor\nrules: [{ id: b, match: { tools: [x] }, action: block }]');
    const d = decide(p, { tool: 'x' });
    expect(d).toMatchObject({ action: 'block', enforced: 'allow', mode: 'monitor', rules: ['b'] });
  });
  it('monitor policy: an unhealthy state store still blocks high-risk calls (blind rate and volume limits are not a trial)', () => {
    const p = policyFrom('version: 1\nmode: monitor\nsensitivity: [{ tools: [pay], level: high }, { tools: [echo], level: low }]\nrules: [{ id: ok, match: { tools: [pay, echo] }, action: allow }]');
    const d = decide(p, { tool: 'pay', signals: signals({ storeHealthy: false }) });
    expect(d).toMatchObject({ action: 'block', enforced: 'block', mode: 'monitor' });
    expect(d.reasons.map((r) => r.code)).toContain('state.unavailable');
    expect(decide(p, { tool: 'echo', signals: signals({ storeHealthy: false }) })).toMatchObject({ enforced: 'allow' });
    expect(decide(p, { tool: 'pay' })).toMatchObject({ action: 'allow', enforced: 'allow' });
  });

  it('a monitor-mode rule shows its effect but does not change enforced', () => {
    const p = policyFrom(`
version: 1
sensitivity: [{ tools: [x], level: low }]
rules: [{ id: trial, mode: monitor, match: { tools: [x] }, action: block }]`);
    const d = decide(p, { tool: 'x' });
    expect(d).toMatchObject({ action: 'block', enforced: 'allow', mode: 'enforce', rules: ['trial'] });
    expect(d.reasons.map((r) => r.code)).toContain('policy.monitor_rule');
  });
  it('a monitor-mode allow rule cannot lift a floor for real', () => {
    const p = policyFrom('version: 1\nsensitivity: [{ tools: [x], level: critical }]\nrules: [{ id: trial, mode: monitor, match: { tools: [x] }, action: allow }]');
    expect(decide(p, { tool: 'x' })).toMatchObject({ action: 'allow', enforced: 'block' });
  });
});

describe('evaluate: context anomalies', () => {
  const p = policyFrom(`
version: 1
sensitivity: [{ tools: [x], level: low }]
anomalies:
  context:
    maxTokenAge: 1h
    maxAuthAge: 30m
    hours: { timezone: America/New_York, start: 9, end: 17, days: [1, 2, 3, 4, 5] }
`);
  const codes = (over: Partial<EvaluateInput>) => decide(p, { tool: 'x', ...over }).reasons.map((r) => r.code);
  const fresh = principal({ issuedAt: NOW / 1000 - 60, authTime: NOW / 1000 - 60 });

  it('fresh token inside office hours is quiet (10:00 UTC is 05:00 in New York, so use 15:00 UTC)', () => {
    const later = NOW + 5 * 3_600_000;
    const freshLater = principal({ issuedAt: later / 1000 - 60, authTime: later / 1000 - 60 });
    expect(codes({ principal: freshLater, now: later })).toEqual(['sensitivity.low']);
  });
  it('flags activity outside hours in the configured timezone', () => {
    expect(codes({ principal: fresh })).toContain('context.off_hours');
  });
  it('flags an old token and stale authentication', () => {
    const old = principal({ issuedAt: NOW / 1000 - 7200, authTime: NOW / 1000 - 7200 });
    expect(codes({ principal: old, now: NOW + 5 * 3_600_000 })).toEqual(expect.arrayContaining(['context.token_age', 'context.auth_age']));
  });
  it('a token without iat or auth_time counts as too old (absence is not freshness)', () => {
    expect(codes({ principal: principal(), now: NOW + 5 * 3_600_000 })).toEqual(expect.arrayContaining(['context.token_age', 'context.auth_age']));
  });
  it('an anonymous caller has no token, so no token age; nobody authenticated, so auth age still counts', () => {
    const anonymous = principal({ issuer: '', user: 'anonymous', actor: undefined, anonymous: true });
    const reasons = codes({ principal: anonymous, now: NOW + 5 * 3_600_000 });
    expect(reasons).not.toContain('context.token_age');
    expect(reasons).toContain('context.auth_age');
  });
});

describe('evaluate: fails closed', () => {
  it('an internal fault becomes a block with reason internal, even in monitor mode', () => {
    const p = policyFrom('version: 1\nmode: monitor');
    const broken = { ...p, lookup: () => { throw new Error('boom'); } } as CompiledPolicy;
    const d = decide(broken, { tool: 'x' });
    expect(d).toMatchObject({ action: 'block', enforced: 'block' });
    expect(d.reasons[0]?.code).toBe('internal');
  });
});
