import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { AuditConfigSchema } from '../../src/audit/audit-config.js';
import { resetReplaceBudget } from '../../src/audit/bounded-replace.js';
import { literalCharacters, literalRuns, redactionPatternProblem, superLinearProblem } from '../../src/audit/pattern-probe.js';
import { REDACTED, stringScrubber } from '../../src/audit/redact-rules.js';
import { loadPolicySync } from '../../src/policy/load-policy.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Operator-written redaction patterns run on every argument string before the call is written,
 * synchronously. A pattern that backtracks polynomially lets an agent stall every session with
 * one long argument: refused at load when the probe sees it, and bounded at run time when it
 * slips through.
 */

/**
 * CPU this process spends from now, against what the slow-pattern budget allows over the same
 * wall time (500 ms, refilled at 250 ms per second), plus one more string's run and a margin for
 * the test's own work.
 */
function cpuSpent(): { expectWithinBudget(): void } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  return {
    expectWithinBudget() {
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      const allowedMs = 500 + 0.25 * (performance.now() - started) + 1_500;
      expect(cpuMs).toBeLessThan(allowedMs);
    },
  };
}

/** Patterns operators plausibly write that are quadratic (or worse) on some long run. */
const SLOW = ['(?:xy)+(?:xy)+z', String.raw`\w+@\w+\.\w+`, String.raw`\d+\d+x`, String.raw`x\d+\d+y`, String.raw`\b[a-z.]+@example\.com`, String.raw`[a-z]+\s*=\s*[a-z]+;`, '.*password.*'];
/** Linear patterns, including every pattern the shipped policies carry. */
const SOUND = [String.raw`\b\d{3}-\d{2}-\d{4}\b`, 'secret', String.raw`(?:AKIA|ASIA)[A-Z0-9]{16}`, String.raw`Bearer\s+[A-Za-z0-9._~+/-]+=*`];

describe('the load check refuses redaction patterns that take super-linear time', () => {
  it.each(SLOW)('refuses %s, naming a string that shows it', (source) => {
    expect(superLinearProblem(source)).toMatch(/^redaction pattern takes super-linear time on long strings such as ".+…" \(.+ on 4096 characters/);
  });

  it.each(SOUND)('accepts the linear pattern %s', (source) => {
    expect(redactionPatternProblem(source)).toBeUndefined();
  });

  it('accepts every redaction pattern of every shipped policy (they load)', () => {
    const dir = join(REPO_ROOT, 'policies');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(() => loadPolicySync([join(dir, f)])).not.toThrow();
  });

  it('refuses a slow pattern in the warden config (audit.redact.patterns), naming the index', () => {
    const r = AuditConfigSchema.safeParse({ file: 'a.jsonl', redact: { patterns: ['secret', String.raw`\w+@\w+\.\w+`] } });
    expect(r.success).toBe(false);
    const issue = (r.error as ZodError).issues[0]!;
    expect(issue.path).toEqual(['redact', 'patterns', 1]);
    expect(issue.message).toMatch(/super-linear/);
  });

  it('still refuses exponential patterns with the engine check', () => {
    expect(redactionPatternProblem('(a+)+$')).toMatch(/catastrophic backtracking/);
  });

  it('takes runs of literal characters as cycles to pump (`xyxy…` for `(?:xy)+(?:xy)+z`), not group syntax, classes or counts', () => {
    expect(literalRuns('(?:xy)+(?:xy)+z')).toEqual(['xy']);
    expect(literalRuns(String.raw`(?<id>ab)c(?<=pre)d{2,5}[a-c]xy+`)).toEqual(['ab', 'pre']);
    expect(literalRuns(String.raw`a\.b\.c`)).toEqual(['a.b.c']);
  });

  it('takes literal characters of the pattern as prefixes, not class escapes', () => {
    expect(literalCharacters(String.raw`x\d+\.y[ab]`)).toEqual(['x', '.', 'y', 'a', 'b']);
  });
});

describe('a slow pattern that slipped through cannot stall the audit write', () => {
  it('an agent\'s 1 MiB argument against a quadratic pattern is redacted whole within the time limit, not after hours', () => {
    resetReplaceBudget();
    const scrub = stringScrubber([String.raw`\w+@\w+\.\w+`]);
    const attack = 'a'.repeat(1_048_576);
    const started = performance.now();
    expect(scrub(attack)).toBe(REDACTED);
    // Unbounded, this replace runs for hours; the limit for a 1 MiB string is 650 ms (plus pauses).
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('many long attack strings in a row stop costing time once the budget for slow patterns is spent', () => {
    resetReplaceBudget();
    const scrub = stringScrubber([String.raw`\d+\d+x`]);
    const attack = '1'.repeat(200_000);
    const spent = cpuSpent();
    for (let i = 0; i < 40; i++) expect(scrub(attack)).toBe(REDACTED);
    // 40 strings at up to ~330 ms each would be 13 s of CPU; the bucket (500 ms, +250 ms per
    // second that passes) ends it far sooner. CPU, not wall time: on a loaded machine each run
    // takes longer to its time limit, and the refill over that longer time lets more run.
    spent.expectWithinBudget();
  }, 60_000);

  it('an argument of many 2,048-character attack strings against a pattern the load probe misses is bounded too, not only strings over 4,096', { timeout: 60_000 }, () => {
    // Cubic on `adad…`, a cycle of two classes the probe does not try: ~0.5 s per 2,048 characters, run directly.
    const missed = '(?:[a-c][d-f])+(?:[a-c][d-f])+z';
    expect(redactionPatternProblem(missed)).toBeUndefined();
    resetReplaceBudget();
    const scrub = stringScrubber([missed]);
    const attack = 'ad'.repeat(1_024);
    const spent = cpuSpent();
    const out = Array.from({ length: 40 }, () => scrub(attack));
    // Unbounded: 40 × ~0.5 s of CPU, every string written as it came. Bounded: once seen slow,
    // the pattern runs under the time limit and budget, and the rest are redacted whole.
    expect(out.at(-1)).toBe(REDACTED);
    spent.expectWithinBudget();
    // A sound pattern keeps redacting short strings exactly.
    resetReplaceBudget();
    expect(stringScrubber([String.raw`SSN-\d+`])('a SSN-123 b')).toBe(`a ${REDACTED} b`);
  });

  it('a linear pattern over long strings redacts exactly as a plain replace, every time', () => {
    resetReplaceBudget();
    const scrub = stringScrubber([String.raw`SSN-\d+`]);
    const value = `${'z'.repeat(50_000)} SSN-123456 ${'q'.repeat(10_000)} SSN-9`;
    const expected = value.replace(/SSN-\d+/g, REDACTED);
    for (let i = 0; i < 200; i++) expect(scrub(value)).toBe(expected);
  });
});
