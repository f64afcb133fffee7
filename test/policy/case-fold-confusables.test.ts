import { describe, expect, it } from 'vitest';
import { compileCondition, type Quantifier } from '../../src/policy/compile-condition.js';
import { ConditionSchema } from '../../src/policy/condition-schema.js';

const cond = (c: unknown, q: Quantifier) => compileCondition(ConditionSchema.parse(c), q);

// Case folds that land on ASCII letters: KELVIN SIGN lower-cases to "k", LATIN CAPITAL I WITH DOT
// ABOVE to "i" + U+0307, and with the regex `u` flag LONG S folds to "s". The tool receives the
// original, different string (another mailbox, another account name).
const KELVIN = '\u212A';
const LONG_S = '\u017F';
const DOTTED_I = '\u0130';

describe('nocase never lets a confusable case fold pass an allow rule', () => {
  it('does not allow a Kelvin-sign address under an eq allowlist written in ASCII', () => {
    const allow = cond({ path: 'to', eq: 'kim@acme.example', nocase: true }, 'every');
    expect(allow({ to: 'KIM@acme.example' })).toBe(true);
    expect(allow({ to: `${KELVIN}im@acme.example` })).toBe(false);
  });

  it('does not allow a confusable value under in, contains or within allowlists', () => {
    expect(cond({ path: 'who', in: ['kim', 'ida'], nocase: true }, 'every')({ who: `${KELVIN}im` })).toBe(false);
    expect(cond({ path: 'who', in: ['kim', 'ida'], nocase: true }, 'every')({ who: `${DOTTED_I}da` })).toBe(false);
    expect(cond({ path: 'q', contains: 'kim', nocase: true }, 'every')({ q: `to ${KELVIN}im` })).toBe(false);
    expect(cond({ path: 'tags', contains: 'kim', nocase: true }, 'every')({ tags: [`${KELVIN}im`] })).toBe(false);
    expect(cond({ path: 'path', within: ['/work/kim'], nocase: true }, 'every')({ path: `/work/${KELVIN}im/a` })).toBe(false);
  });

  it('does not allow a long-s address under a regex allowlist with the u flag', () => {
    const allow = cond({ path: 'to', regex: '^[a-z]+@acme\\.example$', flags: 'u', nocase: true }, 'every');
    expect(allow({ to: 'Sam@acme.example' })).toBe(true);
    expect(allow({ to: `${LONG_S}am@acme.example` })).toBe(false);
  });

  it('still blocks the confusable spelling of a blocked value (block rules hold)', () => {
    expect(cond({ path: 'who', eq: 'kim', nocase: true }, 'any')({ who: `${KELVIN}im` })).toBe(true);
    expect(cond({ path: 'q', contains: 'kill', nocase: true }, 'any')({ q: `${KELVIN}ILL all` })).toBe(true);
    expect(cond({ path: 'path', within: ['/secret/kim'], nocase: true }, 'any')({ path: `/secret/${KELVIN}im/x` })).toBe(true);
    // A negated allowlist used as a block rule: the confusable recipient is blocked.
    expect(cond({ path: 'to', eq: 'kim@acme.example', nocase: true, not: true }, 'any')({ to: `${KELVIN}im@acme.example` })).toBe(true);
  });

  it('leaves ordinary non-ASCII case folding alone', () => {
    expect(cond({ path: 'c', eq: 'ÉTÉ', nocase: true }, 'every')({ c: 'été' })).toBe(true);
    expect(cond({ path: 'c', eq: 'ÅNGSTRÖM', nocase: true }, 'every')({ c: 'ångström' })).toBe(true);
  });
});

describe('Windows drive paths, always compared ignoring case', () => {
  it('does not read C:\\wor\u212A (KELVIN SIGN) as inside C:\\work: a negated within still blocks it', () => {
    const outside = cond({ path: 'path', within: ['C:\\work'], not: true }, 'any');
    expect(outside({ path: 'C:\\zzz\\x' })).toBe(true);
    expect(outside({ path: `C:\\wor${KELVIN}\\x` })).toBe(true);
    expect(cond({ path: 'path', within: ['C:\\work'] }, 'every')({ path: `C:\\wor${KELVIN}\\x` })).toBe(false);
    expect(cond({ path: 'path', within: ['C:\\work'] }, 'every')({ path: 'C:\\WORK\\x' })).toBe(true);
  });

  it('does not let a glob allow a drive path through a confusable fold', () => {
    expect(cond({ path: 'path', glob: 'C:/work/**' }, 'every')({ path: `C:\\wor${KELVIN}\\x` })).toBe(false);
  });
});
