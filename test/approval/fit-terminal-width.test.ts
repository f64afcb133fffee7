import { describe, expect, it } from 'vitest';
import { fitToColumns } from '../../src/approval/fit-terminal-width.js';

describe('fitToColumns', () => {
  it('leaves lines that fit, and everything when the width is unknown or unusable', () => {
    expect(fitToColumns(['short', 'x'.repeat(79)], 80)).toEqual({ lines: ['short', 'x'.repeat(79)], cut: false });
    expect(fitToColumns(['x'.repeat(500)], undefined)).toEqual({ lines: ['x'.repeat(500)], cut: false });
    expect(fitToColumns(['x'.repeat(500)], 5)).toEqual({ lines: ['x'.repeat(500)], cut: false });
  });

  it('blocks a padded line from wrapping into a row of its own: cut with one column spare, marked', () => {
    const { lines, cut } = fitToColumns([`${' '.repeat(78)}  who   mallory`, 'ok'], 80);
    expect(cut).toBe(true);
    // 77 columns and an ellipsis that may take two.
    expect(lines[0]).toBe(`${' '.repeat(77)}…`);
    expect(lines[1]).toBe('ok');
  });

  it('blocks wide characters from wrapping a line its code point count says fits', () => {
    // 50 fullwidth letters take 100 columns on a terminal while being 50 code points.
    const { lines, cut } = fitToColumns(['Ａ'.repeat(50)], 80);
    expect(cut).toBe(true);
    expect(lines[0]).toBe(`${'Ａ'.repeat(38)}…`);
  });

  it('never splits a surrogate pair', () => {
    const { lines } = fitToColumns(['😀'.repeat(60)], 40);
    expect(lines[0]).toBe(`${'😀'.repeat(18)}…`);
  });
});
