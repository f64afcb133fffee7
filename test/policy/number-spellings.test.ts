import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../src/policy/compile-condition.js';
import { ConditionSchema } from '../../src/policy/condition-schema.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

/**
 * An amount is a number to the tool, whatever spelling the agent chose. A block rule for large
 * amounts must hold for every spelling a number parser reads as a large amount, and an allow rule
 * for small ones must not take a spelling it cannot be sure of.
 */
const POLICY = policyFrom(`
version: t1
sensitivity:
  - { tools: [pay], level: high, class: payments }
rules:
  - { id: pay-small, match: { tools: [pay], arguments: [{ path: amount, lte: 1000 }] }, action: allow }
  - { id: pay-huge, match: { tools: [pay], arguments: [{ path: amount, gt: 250000 }] }, action: block }
`);

const decide = (amount: unknown) =>
  evaluate(POLICY, {
    principal: principal(),
    call: { upstream: 'acme', tool: 'pay', arguments: { amount }, toolDefinition: READ_ONLY },
    signals: signals(),
    now: Date.UTC(2026, 0, 5, 10),
  });

const any = (c: unknown) => compileCondition(ConditionSchema.parse(c), 'any');
const every = (c: unknown) => compileCondition(ConditionSchema.parse(c), 'every');

describe('numeric conditions read every spelling of a number', () => {
  // Each of these is more than 250000 to JavaScript's Number(), parseFloat or Python's float().
  const huge: [string, unknown][] = [
    ['hexadecimal', '0x1000000'],
    ['binary', '0b1111111111111111111111111'],
    ['Infinity spelled out', 'Infinity'],
    ['zero-padded past 64 characters', `${'0'.repeat(80)}900000`],
    ['whitespace-padded past 64 characters', `${' '.repeat(80)}900000`],
    ['a number with a unit', '900000 EUR'],
    ['digit separators', '9_000_000'],
    ['full-width digits', '\uFF19\uFF10\uFF10\uFF10\uFF10\uFF10'],
    ['a JSON number too large for a double (JSON.parse reads Infinity)', JSON.parse('{"a": 1e999}').a],
  ];
  it.each(huge)('blocks a huge amount spelled as %s', (_name, amount) => {
    const d = decide(amount);
    expect(d.action).toBe('block');
    expect(d.rules).toContain('pay-huge');
    expect(d.rules).not.toContain('pay-small');
  });

  it.each([['hexadecimal', '0x10'], ['a leading plus', '+5'], ['an empty string (0 to Number())', ''], ['a unit', '5 EUR']])(
    'an allow rule does not take a small amount spelled as %s',
    (_name, amount) => {
      expect(decide(amount).rules).not.toContain('pay-small');
    },
  );

  it('plain decimals, also as strings, are judged as before', () => {
    expect(decide(500).action).toBe('allow');
    expect(decide(' 500 ').action).toBe('allow');
    expect(decide('500000').action).toBe('block');
    expect(decide(500000).rules).toEqual(['pay-huge']);
    expect(decide(-0).action).toBe('allow');
  });

  it('a string no parser reads as a number is no number, for block and allow rules alike', () => {
    expect(any({ path: 'n', gt: 10 })({ n: 'eleven' })).toBe(false);
    expect(every({ path: 'n', lte: 10 })({ n: 'eleven' })).toBe(false);
    expect(any({ path: 'n', gt: 10 })({ n: 'NaN' })).toBe(false);
  });

  it('eq with a number literal does not take an ambiguous spelling for certain', () => {
    expect(any({ path: 'n', eq: 16 })({ n: '0x10' })).toBe(true);
    expect(every({ path: 'n', eq: 16 })({ n: '0x10' })).toBe(false);
    expect(every({ path: 'n', in: [1, 16] })({ n: '0x10' })).toBe(false);
    expect(any({ path: 'n', in: [1, 16], not: true })({ n: '0x10' })).toBe(true);
    expect(any({ path: 'n', contains: 16 })({ n: ['0x10'] })).toBe(true);
  });
});

describe('a string literal matches the number that spells it', () => {
  // A VIP customer's id written as the string the CRM uses; the agent sends the number.
  const VIP = policyFrom(`
version: t1
sensitivity:
  - { tools: [get_customer], level: low }
rules:
  - { id: vip-block, match: { tools: [get_customer], arguments: [{ path: id, in: ['1001', '1002'] }] }, action: block }
  - { id: plain-allow, match: { tools: [get_customer], arguments: [{ path: id, in: ['7', '8'] }] }, action: allow }
`);
  const read = (id: unknown) =>
    evaluate(VIP, {
      principal: principal(),
      call: { upstream: 'acme', tool: 'get_customer', arguments: { id }, toolDefinition: READ_ONLY },
      signals: signals(),
      now: Date.UTC(2026, 0, 5, 10),
    });

  it('blocks a blocklisted id sent as a number instead of a string', () => {
    expect(read('1001').action).toBe('block');
    const d = read(1001);
    expect(d.action).toBe('block');
    expect(d.rules).toContain('vip-block');
  });

  it('blocks a blocklisted id sent as a number inside an array or under contains', () => {
    expect(read([5, 1002]).rules).toContain('vip-block');
    expect(any({ path: 'ids', contains: '1001' })({ ids: [1001] })).toBe(true);
  });

  it('an allow rule takes a number that is exactly the allowed string', () => {
    const d = read(7);
    expect(d.rules).toEqual(['plain-allow']);
    expect(d.action).toBe('allow');
  });

  it('a number only numerically equal to a string literal ("007" and 7) is not judged', () => {
    expect(any({ path: 'a', eq: '007' })({ a: 7 })).toBe(true);
    expect(every({ path: 'a', eq: '007' })({ a: 7 })).toBe(false);
    expect(every({ path: 'a', in: ['5.0'] })({ a: 5 })).toBe(false);
    expect(every({ path: 'a', eq: '5' })({ a: 6 })).toBe(false);
    expect(any({ path: 'a', eq: '5' })({ a: 6 })).toBe(false);
  });

  it('claims (signed, set semantics) match a numeric tenant id written as a string', () => {
    expect(compileCondition(ConditionSchema.parse({ path: 'tenant', eq: '42' }), 'set')({ tenant: 42 })).toBe(true);
    expect(compileCondition(ConditionSchema.parse({ path: 'tenant', eq: '42', not: true }), 'set')({ tenant: 42 })).toBe(false);
  });
});

describe('a boolean literal does not take another type for certain', () => {
  // JavaScript tools test truthiness ("false" is true to `if (args.force)`), Python tools built on
  // pydantic read "true", "yes", "on" and 1 as True: a value that is not a boolean may be either.
  const FORCE = policyFrom(`
version: t1
sensitivity:
  - { tools: [git_push], level: low }
rules:
  - { id: no-force-push, match: { tools: [git_push], arguments: [{ path: force, eq: true }] }, action: block }
  - { id: dry-runs-free, match: { tools: [git_push], arguments: [{ path: dryRun, eq: true }] }, action: allow }
`);
  const push = (args: Record<string, unknown>) =>
    evaluate(FORCE, {
      principal: principal(),
      call: { upstream: 'acme', tool: 'git_push', arguments: args, toolDefinition: READ_ONLY },
      signals: signals(),
      now: Date.UTC(2026, 0, 5, 10),
    });

  it.each([['the string true', 'true'], ['the number 1', 1], ['yes', 'yes'], ['the string false (truthy in JavaScript)', 'false']])(
    'blocks a force flag sent as %s',
    (_name, force) => {
      expect(push({ force }).rules).toContain('no-force-push');
      expect(push({ force }).action).toBe('block');
    },
  );

  it('judges real booleans as before', () => {
    expect(push({ force: true }).action).toBe('block');
    expect(push({ force: false }).rules).toEqual([]);
    expect(push({ dryRun: true }).rules).toEqual(['dry-runs-free']);
  });

  it('an allow rule does not take a string for the boolean it asks for', () => {
    expect(push({ dryRun: 'true' }).rules).not.toContain('dry-runs-free');
    expect(every({ path: 'dryRun', in: [true] })({ dryRun: 1 })).toBe(false);
  });
});

describe('text tests read a number as the text it spells', () => {
  it('blocks a blocklisted id sent as a number under a regex', () => {
    expect(any({ path: 'id', regex: '^(1001|1002)$' })({ id: 1001 })).toBe(true);
    expect(any({ path: 'id', regex: '^(1001|1002)$', not: true })({ id: 1001 })).toBe(false);
    expect(any({ path: 'id', regex: '^(1001|1002)$' })({ id: 7 })).toBe(false);
  });

  it('blocks one under a glob and under a substring contains', () => {
    expect(any({ path: 'id', glob: '100*' })({ id: 1001 })).toBe(true);
    expect(any({ path: 'memo', contains: '666' })({ memo: 16660 })).toBe(true);
  });

  it('an allow rule matches a number the pattern allows, and nothing else', () => {
    expect(every({ path: 'id', regex: '^[0-9]{1,6}$' })({ id: 123 })).toBe(true);
    expect(every({ path: 'id', regex: '^[0-9]{1,6}$' })({ id: 1e21 })).toBe(false);
    expect(every({ path: 'flag', regex: '^true$' })({ flag: true })).toBe(false);
  });
});
