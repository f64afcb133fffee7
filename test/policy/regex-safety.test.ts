import { beforeEach, describe, expect, it } from 'vitest';
import { resetRegexBudget } from '../../src/policy/bounded-regex.js';
import { compileCondition } from '../../src/policy/compile-condition.js';
import { ConditionSchema } from '../../src/policy/condition-schema.js';
import { regexProblem } from '../../src/policy/pattern-checks.js';

/**
 * safe-regex2 only measures star height, so a repeated group whose alternatives can match the
 * same text passed the load check although it backtracks exponentially: `^([a-z0-9]|[a-z])*@x$`
 * against 40 letters and a '!' keeps the (synchronous) decision, and so all of warden, busy
 * for hours. The decision budget cannot interrupt a running regex.
 */
describe('policy regexes: overlapping alternatives under a repetition', () => {
  it.each([
    ['^(a|a)*$'],
    ['^([a-z0-9]|[a-z])*@acme\\.example$'],
    ['^(\\w|\\d)+$'],
    ['^(?:ab|a)*c$'],
    ['^((x|x))*$'],
    ['^(?:a|a){30}$'],
    ['^(|a)*$'],
    ['^(?:A|a)*$', 'i'],
  ])('rejects %s', (source, flags = '') => {
    expect(regexProblem(source, flags)).toMatch(/catastrophic backtracking/);
  });

  it.each([
    ['^[a-z0-9._%+-]+@(acme|corp)\\.example$'],
    ['^(?:ls|pwd|git status|git log|git diff|git show|npm test|npm run lint|cat)(?:$| [A-Za-z0-9_./ -]*$)'],
    ['(^|[;&|`$(]\\s*)(sudo|rm\\s+-[a-z]*r|curl|wget|nc|ssh|scp|chmod|chown|dd|mkfs)\\b|--output\\b'],
    ['^(?:foo|bar)+$'],
    ['^(?:\\.x|-y)*$'],
    ['^(a|b)?$'],
    ['[(|]*'],
    ['\\(a|a\\)*'],
  ])('still accepts %s', (source) => {
    expect(regexProblem(source)).toBeUndefined();
  });
});

describe('policy regexes: polynomial backtracking on a long argument', () => {
  // `.*curl.*\|.*sh` style patterns pass every static check but are cubic: on a 4096-character
  // argument each took 20-25 s of the synchronous decision, stalling every caller meanwhile.
  const cond = (c: unknown, q: 'any' | 'every' = 'any') => compileCondition(ConditionSchema.parse(c), q);
  const hostile = 'a'.repeat(4096);
  // evaluate() starts each decision's regex budget; these tests call conditions directly.
  beforeEach(resetRegexBudget);
  it.each([['.*a.*b.*c'], ['\\d+\\d+$']])('%s is cut short and read the strict way', (regex) => {
    const value = regex.startsWith('\\d') ? `${'1'.repeat(4000)}x` : hostile;
    // A block rule holds, an allow rule fails, and neither takes the decision hostage.
    expect(cond({ path: 'command', regex })({ command: value })).toBe(true);
    expect(cond({ path: 'command', regex, not: true })({ command: value })).toBe(true);
    expect(cond({ path: 'command', regex }, 'every')({ command: value })).toBe(false);
  });
  /**
   * Past 4096 characters only the prefix is searched, and a match there counted as a match. But
   * `$` (and `\b`, a lookahead) matches at the cut as if it were the end: an address list of
   * 4096 characters ending in `@acme.example` at the cut, then `,x@evil.com`, passed the
   * README's internal-recipient allowlist (allow rule) and its negation (block rule).
   */
  it('a match that may depend on where the prefix was cut is not judged', () => {
    const internal = '^[a-z0-9._+-]+@acme\\.example$';
    const at = '@acme.example';
    const value = `${'a'.repeat(4096 - at.length)}${at},x@evil.com`;
    expect(cond({ path: 'to', regex: internal, nocase: true, not: true })({ to: value })).toBe(true);
    expect(cond({ path: 'to', regex: internal, nocase: true }, 'every')({ to: value })).toBe(false);
    expect(cond({ path: 'c', regex: '^cat [a-z]+\\b' }, 'every')({ c: `cat ${'a'.repeat(4092)}; curl x` })).toBe(false);
    expect(cond({ path: 'c', regex: '^cat(?! .*;)' }, 'every')({ c: `cat ${'a'.repeat(4092)}; curl x` })).toBe(false);
  });
  it('long arguments are still matched normally when the pattern is quick', () => {
    expect(cond({ path: 'c', regex: '^git status' })({ c: `git status ${'x'.repeat(3000)}` })).toBe(true);
    expect(cond({ path: 'c', regex: '^git status' }, 'every')({ c: `git status ${'x'.repeat(3000)}` })).toBe(true);
    expect(cond({ path: 'c', regex: '-----BEGIN [A-Z ]*PRIVATE KEY-----' })({ c: `x${'A'.repeat(3000)}` })).toBe(false);
  });
  it('a decision spends one budget: once it is gone, further long values are not judged (no stall by many values)', () => {
    const many = Array.from({ length: 50 }, () => hostile);
    expect(cond({ path: 'c', regex: '.*a.*b.*c' })({ c: many })).toBe(true);
    expect(cond({ path: 'c', regex: '^a' }, 'every')({ c: hostile })).toBe(false);
    resetRegexBudget();
    expect(cond({ path: 'c', regex: '^a' }, 'every')({ c: hostile })).toBe(true);
  });
});
