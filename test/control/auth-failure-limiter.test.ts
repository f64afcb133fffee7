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
    expect(fail(l, 'a')).toMatchObject({ kind: 'check', lockoutMs: 1_000 }); // the third guess is checked, and locks if wrong
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

  it('a valid credential interleaved with guesses never resets the back-off (interleaved valid login): a success takes back only its own attempt', () => {
    const { l, clock } = limiter();
    const succeed = (source: string) => {
      const v = l.attempt(source);
      if (v.kind !== 'check') throw new Error(`locked: ${JSON.stringify(v)}`);
      l.succeeded(source, v.ticket);
    };
    fail(l, 'a');
    fail(l, 'a');
    succeed('a'); // its own attempt would have locked "if it failed": taken back with it
    expect(l.lockedForMs('a')).toBe(0);
    expect(fail(l, 'a')).toMatchObject({ kind: 'check', lockoutMs: 1_000 }); // the third failure locks
    expect(l.attempt('a').kind).toBe('locked');
    clock.now += 1_000;
    succeed('a');
    expect(fail(l, 'a')).toMatchObject({ kind: 'check', lockoutMs: 2_000 }); // still doubling
    expect(l.attempt('b').kind).toBe('check'); // other addresses are never affected
  });

  it('failures expire forgetAfterMs after the last lock, and successes do not keep them remembered', () => {
    const { l, clock } = limiter();
    fail(l, 'a');
    fail(l, 'a');
    for (let i = 0; i < 10; i++) {
      clock.now += LIMITS.forgetAfterMs / 10 - 1;
      const v = l.attempt('a');
      if (v.kind === 'check') l.succeeded('a', v.ticket);
    }
    clock.now += 20;
    // Quiet (no failure) for forgetAfterMs: starts from zero, the polling successes notwithstanding.
    for (let i = 0; i < 2; i++) expect(fail(l, 'a')).toMatchObject({ kind: 'check', lockoutMs: 0 });
  });

  it('a success while another attempt was let through after it leaves that attempt\'s lock in place', () => {
    const { l } = limiter();
    fail(l, 'a');
    const mine = l.attempt('a'); // second
    const theirs = l.attempt('a'); // third: locks if it fails
    expect(theirs).toMatchObject({ kind: 'check', lockoutMs: 1_000 });
    if (mine.kind !== 'check') throw new Error('locked');
    l.succeeded('a', mine.ticket);
    expect(l.lockedForMs('a')).toBe(1_000);
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
