import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explain, ruleActionsOf, type AuditRecord } from '../../../examples/demo/demo-audit.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const actions = ruleActionsOf(resolve(REPO_ROOT, 'examples/demo/demo-policy.yaml'));

/** The `call.decision` record warden wrote for the demo's 50,000 EUR payment (fields the demo reads). */
const largePaymentBlock: AuditRecord = {
  seq: 54,
  type: 'call.decision',
  tool: 'transfer_funds',
  action: 'block',
  enforced: 'block',
  score: 40,
  rules: ['approve-large-payments'],
  reasons: [
    { code: 'sensitivity.raised', detail: 'sensitivity[4] raised high to critical', weight: 0 },
    { code: 'sensitivity.critical', detail: 'tool class payments', weight: 40 },
    { code: 'policy.implicit_critical', detail: 'critical sensitivity needs an explicit allow rule', weight: 0 },
  ],
};

describe('the demo explains a decision by what decided it', () => {
  it('a block by the critical floor is not shown as the approve rule that also matched', () => {
    const why = explain(largePaymentBlock, actions);
    expect(why).toBe('score 40 · sensitivity.raised sensitivity.critical(40) · block by policy.implicit_critical: critical sensitivity needs an explicit allow rule · matched, did not decide: approve-large-payments (approve)');
    expect(why).not.toMatch(/block by rule approve-large-payments/);
  });

  it('a rule whose action is the decision is named as what decided', () => {
    const secretRead: AuditRecord = { seq: 50, type: 'call.decision', action: 'block', score: 40, rules: ['block-secret-files'], reasons: [{ code: 'sensitivity.critical', weight: 40 }] };
    expect(explain(secretRead, actions)).toBe('score 40 · sensitivity.critical(40) · block by rule block-secret-files');
    const payment: AuditRecord = { seq: 40, type: 'call.decision', action: 'approve', score: 30, rules: ['approve-large-payments'], reasons: [{ code: 'sensitivity.high', weight: 25 }] };
    expect(explain(payment, actions)).toBe('score 30 · sensitivity.high(25) · approve by rule approve-large-payments');
  });
});
