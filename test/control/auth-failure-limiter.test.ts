import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter, DEFAULT_AUTH_FAILURE_LIMITS } from '../../src/control/auth-failure-limiter.js';
import { ControlConfigSchema } from '../../src/control/control-config.js';

const LIMITS = { ...DEFAULT_AUTH_FAILURE_LIMITS, maxFailures: 3, lockoutMs: 1_000, maxLockoutMs: 4_000, maxSources: 100 };

function limiter() {
  const clock = { now: 1_000_000 };
  return { l: new AuthFailureLimiter(LIMITS, () => clock.now), clock };
}

/** One attempt whose credential turns out wrong. */
const fail = (l: AuthFailureLimiter, source: string) => l.attempt(source);

describe('AuthFailureLimiter', () => {
  it('locks an address out after maxFailures, and doubles the lock with each failure after it, up to the cap', () => {
    const { l, clock } = limiter();
    for (let i = 0; i < 2; i++) expect(fail(l, 'a').kind).toBe('check');
    expect(fail(l, 'a')).toEqual({ kind: 'check', lockoutMs: 1_000 }); // the third guess is checked, and locks if wrong
    expect(l.attempt('a')).toEqual({ kind: 'locked', retryAfterMs: 1_000 });
    const locks: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.now += l.lockedForMs('a');
      expect(fail(l, 'a').kind).toBe('check');
      locks.push(l.lockedForMs('a'));
    }
    expect(locks).toEqual([2_000, 4_000, 4_000, 4_000]);
  });

  it('racing attempts cannot all pass before the first is counted: each is counted when it starts', () => {
    const { l } = limiter();
    const verdicts = Array.from({ length: 10 }, () => l.attempt('a').kind);
    expect(verdicts.filter((k) => k === 'check')).toHaveLength(LIMITS.maxFailures);
  });

  it('a success clears the address; other addresses are never affected', () => {
    const { l } = limiter();
    fail(l, 'a');
    fail(l, 'a');
    l.attempt('a');
    l.succeeded('a');
    for (let i = 0; i < 3; i++) expect(fail(l, 'a').kind).toBe('check');
    expect(l.attempt('a').kind).toBe('locked');
    expect(l.attempt('b').kind).toBe('check');
  });

  it('an address sweep cannot grow its memory past maxSources', () => {
    const { l } = limiter();
    for (let i = 0; i < 10_000; i++) fail(l, `2001:db8::${i.toString(16)}`);
    expect(l.size).toBe(LIMITS.maxSources);
  });

  it('config: on by default, and a cap below the first lock-out is refused naming the key', () => {
    expect(ControlConfigSchema.parse({}).authFailures).toEqual({ maxFailures: 5, lockoutMs: 1_000, maxLockoutMs: 300_000, forgetAfterMs: 600_000 });
    const bad = ControlConfigSchema.safeParse({ authFailures: { lockoutMs: 5_000, maxLockoutMs: 1_000 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['authFailures', 'maxLockoutMs']);
    expect(ControlConfigSchema.safeParse({ authFailures: { maxFailure: 5 } }).success).toBe(false);
  });
});
