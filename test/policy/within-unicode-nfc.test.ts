import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../src/policy/compile-condition.js';
import { ConditionSchema } from '../../src/policy/condition-schema.js';
import { resetWorkBudget } from '../../src/policy/work-budget.js';

const cond = (c: unknown, q: 'any' | 'every') => {
  const compiled = compileCondition(ConditionSchema.parse(c), q);
  return (args: unknown) => (resetWorkBudget(), compiled(args));
};

/**
 * `Gehälter` can be sent precomposed (NFC) or decomposed (`a` + U+0308, NFD). The filesystem server
 * and macOS open both as the same folder, and globs already read a path in NFC too; `within` did
 * not, so a block rule for the folder was dodged by the decomposed spelling.
 */
const NFD = 'Geha\u0308lter';
const NFC = 'Geh\u00e4lter';

describe('within reads a decomposed path as the folder it opens', () => {
  const blockPayroll = cond({ path: 'path', within: [`/data/${NFC}`] }, 'any');
  const allowOutsidePayroll = cond({ path: 'path', within: [`/data/${NFC}`], not: true }, 'every');

  it('blocks a decomposed spelling of a blocked folder', () => {
    expect(blockPayroll({ path: `/data/${NFC}/salaries.csv` })).toBe(true);
    expect(blockPayroll({ path: `/data/${NFD}/salaries.csv` })).toBe(true);
  });

  it('blocks it in a file URL, percent-encoded too', () => {
    expect(blockPayroll({ path: `file:///data/${NFD}/salaries.csv` })).toBe(true);
    expect(blockPayroll({ path: 'file:///data/Geha%CC%88lter/salaries.csv' })).toBe(true);
  });

  it('an allow rule for "outside the folder" does not take the decomposed spelling', () => {
    expect(allowOutsidePayroll({ path: '/data/public/x' })).toBe(true);
    expect(allowOutsidePayroll({ path: `/data/${NFD}/salaries.csv` })).toBe(false);
  });

  it('a root written decomposed holds for the precomposed spelling', () => {
    expect(cond({ path: 'path', within: [`/data/${NFD}`] }, 'any')({ path: `/data/${NFC}/x` })).toBe(true);
  });

  it('an allow for a folder named in NFC does not take the decomposed spelling for certain', () => {
    const allowInside = cond({ path: 'path', within: [`/data/${NFC}`] }, 'every');
    expect(allowInside({ path: `/data/${NFC}/x` })).toBe(true);
    expect(allowInside({ path: `/data/${NFD}/x` })).toBe(false);
  });
});
