import { describe, expect, it } from 'vitest';
import type { Reason } from '../../src/core/decision.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { AFTER_RULE_REASON_CODES, RULE_REASON_CODES } from '../../src/policy/rule-reason-codes.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

/**
 * `match.reasons` is checked against RULE_REASON_CODES at load. The list must be exactly what the
 * engine computes before rules are matched: a code missing from it would refuse a valid policy,
 * a code the engine never emits would let a dead rule load.
 */
const POLICY = policyFrom(`
version: t1
annotations: { destructive: medium, nonIdempotent: high, openWorld: critical }
anomalies:
  rate: { perTool: 1, perClass: { pay: 1 }, overall: 1, perUser: 1 }
  volume: { maxBytes: 1, maxItems: 1, maxDistinctResources: 1, perUserMaxBytes: 1, perUserMaxItems: 1 }
  novelty: { arguments: [{ name: payee, tools: [pay], path: payee }] }
  context: { maxTokenAge: 1h, maxAuthAge: 1h, hours: { start: 8, end: 9 } }
sensitivity:
  - { tools: [low], level: low }
  - { tools: [medium], level: medium }
  - { tools: [pay], level: high, class: pay }
  - { tools: [pay], when: [{ path: amount, gt: 10 }], level: critical }
`);

/** Codes a rule can never see: added after rules are matched. */
const AFTER_RULES = /^(policy\.|internal$)/;

function codesOf(tool: string, args: Record<string, unknown>, annotations: boolean, healthy: boolean): readonly Reason[] {
  const anomalous = signals({
    rate: { tool: 9, toolClass: 9, overall: 9, user: 9 },
    burst: { current: 100, baseline: 1, samples: 9, user: { current: 100, baseline: 1, samples: 9 } },
    volume: { bytes: 9, items: 9, distinctResources: 9, userBytes: 9, userItems: 9 },
    novelty: { tool: true, arguments: ['payee'] },
    context: { addressChanged: true, clientChanged: true },
    storeHealthy: healthy,
  });
  return evaluate(POLICY, {
    principal: principal({ issuedAt: undefined, authTime: undefined }),
    call: { upstream: 'acme', tool, arguments: args, toolDefinition: annotations ? undefined : READ_ONLY },
    signals: anomalous,
    now: Date.UTC(2026, 0, 5, 12),
  }).reasons;
}

describe('reason codes a rule can match', () => {
  it('are exactly the codes the engine computes before rules are matched', () => {
    const seen = new Set<string>();
    for (const reason of [
      ...codesOf('low', {}, false, true),
      ...codesOf('low', {}, true, true),
      ...codesOf('medium', {}, false, true),
      ...codesOf('pay', { payee: 'x', amount: 1 }, false, true),
      ...codesOf('pay', { payee: 'x', amount: 100 }, true, false),
      ...codesOf('unclassified', {}, true, true),
    ]) {
      if (!AFTER_RULES.test(reason.code)) seen.add(reason.code);
      else expect(AFTER_RULE_REASON_CODES).toContain(reason.code);
    }
    expect([...seen].sort()).toEqual([...RULE_REASON_CODES].sort());
  });

  it('a rule on each of them loads', () => {
    const rules = RULE_REASON_CODES.map((code, i) => `  - { id: r${i}, match: { reasons: [${code}] }, action: approve }`).join('\n');
    expect(() => policyFrom(`version: t1\nrules:\n${rules}\n`)).not.toThrow();
  });
});
