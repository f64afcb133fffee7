import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { evaluate } from '../../src/policy/evaluate.js';
import { loadPolicySync } from '../../src/policy/load-policy.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);
const DEFAULT = loadPolicySync([join(import.meta.dirname, '../../policies/default.yaml')]);
const WITHIN = policyFrom(`
version: t1
sensitivity:
  - { tools: [read_multiple_files], level: low, class: read }
rules:
  - { id: reads-inside, match: { tools: [read_multiple_files], arguments: [{ path: paths, within: [/w] }] }, action: allow }
`);

/** Long, harmless paths: each costs a glob or a normalisation well beyond a short one. */
const longPaths = (n: number): string[] => Array.from({ length: n }, (_, i) => `/w/${'a/'.repeat(1500)}${i}.txt`);

/**
 * The clock the work budget reads, made slow: every reading is 20 ms after the last, as if each
 * long value took that long (a 4 MiB call of 4096-character paths held the synchronous decision,
 * and every other session with it, for about a second: globs and path normalising had no budget).
 */
function slowClock(): void {
  let t = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => (t += 20));
}

/**
 * A clock that never moves: no work is charged, so the control decisions do not depend on how
 * fast this machine is (on a loaded CI machine 100 long paths can take the real budget).
 */
function stoppedClock(): void {
  vi.spyOn(performance, 'now').mockReturnValue(0);
}

const decide = (policy: typeof DEFAULT, args: Record<string, unknown>) =>
  evaluate(policy, { principal: principal(), call: { upstream: 'fs', tool: 'read_multiple_files', arguments: args, toolDefinition: READ_ONLY }, signals: signals(), now: NOW });

describe('work budget: long argument strings cannot hold a decision hostage', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('a flood of long paths stops being judged once the budget is spent, and the block rule holds', () => {
    // The control: with the budget never spent these paths are harmless and the read is allowed.
    stoppedClock();
    expect(decide(DEFAULT, { paths: longPaths(100) }).action).toBe('allow');
    vi.restoreAllMocks();
    slowClock();
    const d = decide(DEFAULT, { paths: longPaths(100) });
    expect(d.action).toBe('block');
    expect(d.rules).toContain('block-secret-files');
  });

  it('an allow rule on `within` does not hold for paths left unjudged', () => {
    stoppedClock();
    expect(decide(WITHIN, { paths: longPaths(100) }).rules).toEqual(['reads-inside']);
    vi.restoreAllMocks();
    slowClock();
    expect(decide(WITHIN, { paths: longPaths(100) }).rules).toEqual([]);
  });

  it('each decision starts with a fresh budget', () => {
    slowClock();
    expect(decide(DEFAULT, { paths: longPaths(100) }).action).toBe('block');
    // The clock stops: whatever the first decision spent, the next one judges its values normally.
    vi.restoreAllMocks();
    stoppedClock();
    expect(decide(DEFAULT, { paths: ['/w/a.txt', '/w/b.txt'] }).action).toBe('allow');
  });

  /**
   * Polynomial patterns pass the load checks (`.*a.*b.*c` takes ~90 ms on one 256-character
   * string, a glob `*a*b*c*d*e` as long); strings up to 256 characters were never charged, so a
   * call of a thousand of them held the synchronous decision, and every session, for minutes.
   */
  const SLOW = policyFrom(`
version: t1
sensitivity:
  - { tools: [run], level: low, class: shell }
rules:
  - { id: no-abc, match: { tools: [run], arguments: [{ path: '**', regex: '.*a.*b.*c' }] }, action: block }
  - { id: no-glob, match: { tools: [run], arguments: [{ path: '**', glob: '*a*b*c*d*e' }] }, action: block }
  - { id: short-words, match: { tools: [run], arguments: [{ path: '**', glob: '[ab]*' }] }, action: allow }
`);
  const shortFlood = (): string[] => Array.from({ length: 1000 }, () => 'ab'.repeat(128));
  const run = (args: Record<string, unknown>) =>
    evaluate(SLOW, { principal: principal(), call: { upstream: 'sh', tool: 'run', arguments: args, toolDefinition: READ_ONLY }, signals: signals(), now: NOW });

  it('a flood of short strings against a slow pattern stops being judged once the budget is spent', () => {
    // The control: with the budget never spent nothing matches the block rules and the allow rule holds.
    stoppedClock();
    expect(run({ argv: ['ab', 'ba'] }).rules).toEqual(['short-words']);
    vi.restoreAllMocks();
    slowClock();
    const d = run({ argv: shortFlood() });
    expect(d.action).toBe('block');
    expect(d.rules).toEqual(expect.arrayContaining(['no-abc', 'no-glob']));
    expect(d.rules).not.toContain('short-words');
  });
});
