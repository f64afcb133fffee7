import { LRUCache } from 'lru-cache';

/**
 * Slows down credential guessing on the control API. The admin and approver tokens are high
 * entropy, but whoever reaches the control port could otherwise try them as fast as the port
 * answers. Per source address: after `maxFailures` failed attempts, every further attempt is
 * refused without looking at its credential (a correct one too: else the lock is no lock, the
 * guesser would simply go on) until a back-off ends; each failure after that doubles the back-off,
 * up to `maxLockoutMs`. A success clears the address; a quiet address is forgotten `forgetAfterMs`
 * after its lock would end. Other addresses are unaffected.
 */
export interface AuthFailureLimits {
  /** Failed attempts from one address before it is locked out. */
  readonly maxFailures: number;
  /** The first lock-out; each further failure doubles it. */
  readonly lockoutMs: number;
  readonly maxLockoutMs: number;
  /** An address without failures for this long (after its lock ends) starts from zero again. */
  readonly forgetAfterMs: number;
  /** Addresses remembered at once (an IPv6 sweep mints them at will); least recently used go first. */
  readonly maxSources: number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = {
  maxFailures: 5,
  lockoutMs: 1_000,
  maxLockoutMs: 300_000,
  forgetAfterMs: 600_000,
  maxSources: 10_000,
};

/** What the limiter says about an attempt before its credential is looked at. */
export type AttemptVerdict =
  /** `lockoutMs`: how long the address is locked out if this attempt fails (0: not locked). */
  | { readonly kind: 'check'; readonly lockoutMs: number }
  | { readonly kind: 'locked'; readonly retryAfterMs: number };

interface SourceState {
  failures: number;
  lockedUntil: number;
}

export class AuthFailureLimiter {
  private readonly sources: LRUCache<string, SourceState>;

  constructor(
    private readonly limits: AuthFailureLimits = DEFAULT_AUTH_FAILURE_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {
    // The cache's own clock stays Date.now-based; the TTL only frees memory, the lock itself is
    // always compared with the injected clock.
    this.sources = new LRUCache({ max: limits.maxSources });
  }

  /**
   * Called before the credential is checked. The attempt is counted as a failure at once and
   * taken back by `succeeded`: attempts racing each other (an asynchronous approver verifier lets
   * many be in flight) cannot all pass before the first of them is counted.
   */
  attempt(source: string): AttemptVerdict {
    const now = this.clock();
    const state = this.sources.get(source) ?? { failures: 0, lockedUntil: 0 };
    if (state.lockedUntil > now) return { kind: 'locked', retryAfterMs: state.lockedUntil - now };
    state.failures += 1;
    const lockoutMs = state.failures >= this.limits.maxFailures ? this.backoffMs(state.failures) : 0;
    if (lockoutMs > 0) state.lockedUntil = now + lockoutMs;
    this.sources.set(source, state, { ttl: Math.ceil(lockoutMs + this.limits.forgetAfterMs) });
    return { kind: 'check', lockoutMs };
  }

  /** The attempt's credential was right: the address starts from zero. */
  succeeded(source: string): void {
    this.sources.delete(source);
  }

  /** How long `source` is locked out from now (0: not locked). */
  lockedForMs(source: string): number {
    const state = this.sources.peek(source);
    return state === undefined ? 0 : Math.max(0, state.lockedUntil - this.clock());
  }

  /** Addresses remembered now (for tests of the memory bound). */
  get size(): number {
    return this.sources.size;
  }

  private backoffMs(failures: number): number {
    const doublings = Math.min(failures - this.limits.maxFailures, 30);
    return Math.min(this.limits.maxLockoutMs, this.limits.lockoutMs * 2 ** doublings);
  }
}
