import { LRUCache } from 'lru-cache';

/**
 * Slows down credential guessing on the control API. The admin and approver tokens are high
 * entropy, but whoever reaches the control port could otherwise try them as fast as the port
 * answers. Per source address: after `maxFailures` failed attempts, every further attempt is
 * refused without looking at its credential (a correct one too: else the lock is no lock, the
 * guesser would simply go on) until a back-off ends; each failure after that doubles the back-off,
 * up to `maxLockoutMs`. A success takes back only its own attempt: the failures before it stay
 * counted, or a guesser who also holds one valid credential (a low-privilege approver token) could
 * interleave it to start from zero again and keep guessing at full speed. An address is forgotten
 * `forgetAfterMs` after its last failure's lock would end; successes do not keep it remembered.
 * Other addresses are unaffected.
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

interface SourceState {
  /** Attempts counted: failures, and attempts still being checked (counted up front). */
  failures: number;
  lockedUntil: number;
  /** When the address is forgotten (the injected clock): `forgetAfterMs` after its last lock. */
  forgetAt: number;
  /** Attempts let through so far: tells whether the lock and forgetAt are one attempt's own. */
  attempts: number;
}

/** What `succeeded` needs to take one attempt back; opaque to callers. */
export interface AttemptTicket {
  readonly state: SourceState;
  readonly attempt: number;
  /** The address's forgetAt before this attempt counted. */
  readonly forgetAt: number;
}

/** What the limiter says about an attempt before its credential is looked at. */
export type AttemptVerdict =
  /**
   * `lockoutMs`: how long the address is locked out if this attempt fails (0: not locked);
   * `ticket`: hand it to `succeeded` if the credential is right.
   */
  | { readonly kind: 'check'; readonly lockoutMs: number; readonly ticket: AttemptTicket }
  | { readonly kind: 'locked'; readonly retryAfterMs: number };

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
    let state = this.sources.get(source);
    // Quiet for forgetAfterMs after its last lock: starts from zero (the cache's TTL frees it too).
    if (state === undefined || state.forgetAt <= now) state = { failures: 0, lockedUntil: 0, forgetAt: 0, attempts: 0 };
    if (state.lockedUntil > now) return { kind: 'locked', retryAfterMs: state.lockedUntil - now };
    state.attempts += 1;
    const ticket: AttemptTicket = { state, attempt: state.attempts, forgetAt: state.forgetAt };
    state.failures += 1;
    const lockoutMs = state.failures >= this.limits.maxFailures ? this.backoffMs(state.failures) : 0;
    if (lockoutMs > 0) state.lockedUntil = now + lockoutMs;
    state.forgetAt = Math.max(state.forgetAt, now + lockoutMs + this.limits.forgetAfterMs);
    this.sources.set(source, state, { ttl: Math.ceil(state.forgetAt - now) });
    return { kind: 'check', lockoutMs, ticket };
  }

  /**
   * The attempt's credential was right: its own count is taken back, and, when no attempt came
   * after it, the lock and the longer memory it set. Earlier failures stay until they expire.
   */
  succeeded(source: string, ticket: AttemptTicket): void {
    const state = this.sources.peek(source);
    // The address was forgotten (or started over) since: nothing of this attempt is left to take back.
    if (state !== ticket.state) return;
    state.failures = Math.max(0, state.failures - 1);
    if (state.attempts === ticket.attempt) {
      // Any lock now is this attempt's own ("if it fails"): before it the address was not locked.
      state.lockedUntil = 0;
      state.forgetAt = ticket.forgetAt;
    }
    const now = this.clock();
    if (state.failures === 0 || state.forgetAt <= now) this.sources.delete(source);
    else this.sources.set(source, state, { ttl: Math.ceil(state.forgetAt - now) });
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
