import { describe, expect, it } from 'vitest';
import { isToolHidden } from '../../src/policy/hidden-tools.js';
import { policyFrom, principal } from '../helpers/policy-helpers.js';

const POLICY = policyFrom(`
version: 1
rules:
  - { id: hide-shell, match: { tools: [run_shell], scopes: { none: ['tools:shell'] } }, action: block, hide: true }
  - { id: hide-pay, match: { tools: [transfer_funds], claims: [{ path: groups, contains: payments, not: true }] }, action: block, hide: true }
  - { id: block-not-hidden, match: { tools: [delete_record] }, action: block }
  - { id: trial-hide, mode: monitor, match: { tools: [echo] }, action: block, hide: true }
`);

describe('isToolHidden', () => {
  it('hides a tool a principal can never call', () => {
    expect(isToolHidden(POLICY, principal(), 'acme', 'run_shell')).toBe(true);
    expect(isToolHidden(POLICY, principal({ scopes: ['tools:shell'] }), 'acme', 'run_shell')).toBe(false);
  });
  it('uses claims', () => {
    expect(isToolHidden(POLICY, principal({ claims: { groups: ['sales'] } }), 'acme', 'transfer_funds')).toBe(true);
    expect(isToolHidden(POLICY, principal({ claims: { groups: ['payments'] } }), 'acme', 'transfer_funds')).toBe(false);
  });
  it('does not hide block rules without hide, nor monitor-mode hide rules', () => {
    expect(isToolHidden(POLICY, principal(), 'acme', 'delete_record')).toBe(false);
    expect(isToolHidden(POLICY, principal(), 'acme', 'echo')).toBe(false);
  });
  it('a monitor-mode policy hides nothing', () => {
    const p = policyFrom('version: 1\nmode: monitor\nrules: [{ id: h, match: { tools: [x] }, action: block, hide: true }]');
    expect(isToolHidden(p, principal(), 'u', 'x')).toBe(false);
  });
});
