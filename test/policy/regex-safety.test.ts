import { describe, expect, it } from 'vitest';
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
