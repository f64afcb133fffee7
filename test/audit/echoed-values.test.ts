import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/audit/redactor.js';
import { hiddenValues, maskEchoes, MAX_ECHO_VALUES, MAX_MASKED_TEXT_CHARS } from '../../src/audit/echoed-values.js';

const hidden = (args: Record<string, unknown>, paths: string[] = []): string[] => hiddenValues(args, createRedactor({ paths })(args).redacted);

describe('hiddenValues: what a redaction hid, to mask where it is echoed', () => {
  it.each([
    ['a value hidden by its path', { pin: '4921', memo: 'x' }, ['pin'], ['4921']],
    ['a number hidden by its path, as written', { pin: 4921 }, ['pin'], ['4921']],
    ['every leaf of a hidden object, longest first', { card: { number: '4111111111111111', cvv: '123', exp: 12 } }, ['card'], ['4111111111111111', '123']],
    ['a value hidden by a built-in key name', { apiKey: 'k-abcdef' }, [], ['k-abcdef']],
    ['values inside arrays', { people: [{ ssn: '078-05-1120' }, { ssn: '219-09-9999' }] }, ['**.ssn'], ['078-05-1120', '219-09-9999']],
    ['nothing when nothing was hidden', { memo: 'pay rent' }, [], []],
    ['not values shorter than three characters (they would mask everything)', { pin: '12' }, ['pin'], []],
  ])('%s', (_name, args, paths, expected) => {
    expect(hidden(args, paths)).toEqual(expected);
  });

  it('a value a pattern changed in part is left to the same pattern on the message', () => {
    const args = { header: 'sent Bearer abcdefghijklmnop twice' };
    expect(hiddenValues(args, createRedactor({})(args).redacted)).toEqual([]);
  });

  it(`searches at most ${MAX_ECHO_VALUES} values, the longest first`, () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'.repeat(3 + i)]));
    const found = hidden({ secret: many });
    expect(found).toHaveLength(MAX_ECHO_VALUES);
    expect(found[0]).toBe('v'.repeat(202));
  });
});

describe('maskEchoes', () => {
  it('masks every literal occurrence, the longer value first', () => {
    expect(maskEchoes('4111111111111111 declined (4111111111111111, cvv 411)', ['4111111111111111', '411'])).toBe('[REDACTED] declined ([REDACTED], cvv [REDACTED])');
  });

  it('treats values as literal text, not patterns (no regex from data)', () => {
    expect(maskEchoes('a.b and axb', ['a.b'])).toBe('[REDACTED] and axb');
  });

  it.each([
    ['JSON-escaped (a quote and a backslash)', 'pa"ss\\w', 'bad {"password":"pa\\"ss\\\\w"}', 'bad {"password":"[REDACTED]"}'],
    ['JSON-escaped (a line break)', 'line1\nline2', 'got "line1\\nline2"', 'got "[REDACTED]"'],
    ['percent-encoded', '49 21/x', 'GET /v?pin=49%2021%2Fx failed', 'GET /v?pin=[REDACTED] failed'],
    ['form-encoded (URLSearchParams: a space as +)', '49 21/x!', `GET /v?${new URLSearchParams({ pin: '49 21/x!' }).toString()} failed`, 'GET /v?pin=[REDACTED] failed'],
  ])('masks a value quoted %s (escaped echo of a hidden argument)', (_name, value, text, masked) => {
    expect(maskEchoes(text, [value])).toBe(masked);
  });

  it('a lone surrogate (no percent-encoding) is still masked as written', () => {
    expect(maskEchoes('x \ud800ab y', ['\ud800ab'])).toBe('x [REDACTED] y');
  });

  it('returns the text unchanged when nothing is echoed', () => {
    expect(maskEchoes('not found', ['hunter22'])).toBe('not found');
  });
});

describe('maskEchoes on a huge message (an agent choosing the values, an upstream the message)', () => {
  it('does not search a message past the bound when values are hidden: it is hidden whole (event-loop stall)', () => {
    const values = Array.from({ length: MAX_ECHO_VALUES }, (_, i) => `${'a'.repeat(4000 + i)}b`);
    const message = 'a'.repeat(4 * 1024 * 1024);
    // Searched, this took seconds (and found nothing); now it is not searched at all.
    expect(maskEchoes(message, values)).toBe(`[REDACTED] (an error message of ${message.length} characters, too long to search for hidden arguments)`);
  });

  it('a long message is kept as it is when nothing was hidden', () => {
    const message = 'x'.repeat(MAX_MASKED_TEXT_CHARS + 1);
    expect(maskEchoes(message, [])).toBe(message);
  });

  it('a message at the bound is still searched', () => {
    const message = `${'x'.repeat(MAX_MASKED_TEXT_CHARS - 8)}hunter22`;
    expect(maskEchoes(message, ['hunter22']).endsWith('[REDACTED]')).toBe(true);
  });
});
