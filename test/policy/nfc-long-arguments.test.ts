import { afterEach, describe, expect, it, vi } from 'vitest';
import { evaluate } from '../../src/policy/evaluate.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a long non-ASCII argument under many text conditions (decision-cost amplification)', () => {
  // Every text condition also reads the value in NFC; normalising 4 MB takes ~15 ms, so without a
  // per-decision memory an agent's one long argument cost that once per condition.
  const rules = Array.from({ length: 30 }, (_, i) => `  - { id: r${i}, match: { tools: [t], arguments: [{ path: '**', eq: 'x${i}' }] }, action: block }`).join('\n');
  const policy = policyFrom(`version: 1\ndefaults: { sensitivity: low, unclassifiedAction: allow }\nrules:\n${rules}`);
  const decide = (args: Record<string, unknown>) =>
    evaluate(policy, { principal: principal(), call: { upstream: 'acme', tool: 't', arguments: args, toolDefinition: READ_ONLY }, signals: signals(), now: Date.UTC(2026, 0, 5, 10) });

  it('normalises the long value once per decision, not once per condition', () => {
    const big = 'Geha\u0308lter '.repeat(100_000);
    const normalize = vi.spyOn(String.prototype, 'normalize');
    expect(decide({ a: big }).action).toBe('allow');
    const onBig = normalize.mock.contexts.filter((s) => String(s).length === big.length).length;
    expect(onBig).toBe(1);
  });

  it('still judges it: a block rule for the name holds for the decomposed spelling of a long value', () => {
    const p = policyFrom(`version: 1\ndefaults: { sensitivity: low, unclassifiedAction: allow }\nrules:\n  - { id: b, match: { tools: [t], arguments: [{ path: a, contains: 'Geh\u00E4lter' }] }, action: block }`);
    const big = `${'x'.repeat(10_000)} Geha\u0308lter`;
    expect(evaluate(p, { principal: principal(), call: { upstream: 'acme', tool: 't', arguments: { a: big }, toolDefinition: READ_ONLY }, signals: signals(), now: 0 }).action).toBe('block');
  });
});
