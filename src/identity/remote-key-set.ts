import { createLocalJWKSet } from 'jose';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../logging/logger.js';
import { MAX_JWKS_BYTES, readBounded } from './bounded-jwks-fetch.js';
import { lookupInLocalSet, type KeyLookup, type KeyResolver } from './key-set.js';

export interface RemoteKeySetOptions {
  readonly url: string;
  /** Per-fetch timeout (jose default 5 s). */
  readonly timeoutMs: number;
  /** Minimum time between fetches triggered by unknown kids or failures (jose default 30 s). */
  readonly cooldownMs: number;
  /** After this the cached set is stale and must be refetched before use (jose default 10 min). */
  readonly cacheMaxAgeMs: number;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  readonly logger?: Logger | undefined;
  /** After each successful fetch: verifications cached with the previous set must go (see JwtAuthenticator). */
  readonly onRefreshed?: (() => void) | undefined;
}

/**
 * A remote JWKS with jose's semantics but an injected clock and an exact failure rule:
 * - a fresh cache is used without the key server (server down → still works);
 * - a stale cache is never used: the set is refetched, and if that fails tokens are rejected
 *   (`keys_unavailable`, fail closed);
 * - an unknown kid refetches at most once per cooldown, however many unknown kids arrive, and
 *   failed fetches are also rate-limited, so a down key server is not hammered;
 * - concurrent refetches share one request.
 */
export class RemoteKeySet implements KeyResolver {
  private set: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<boolean> | undefined;
  private fetches = 0;

  constructor(private readonly options: RemoteKeySetOptions) {}

  get generation(): number {
    return this.fetches;
  }

  async resolve(header: { alg: string; kid?: string | undefined }): Promise<KeyLookup> {
    const now = this.options.clock();
    if (this.set === undefined || now >= this.fetchedAt + this.options.cacheMaxAgeMs) {
      // Missing or stale keys: fail closed unless a fetch succeeds now.
      const refreshed = await this.refresh(now);
      if (!refreshed || this.set === undefined) {
        return { ok: false, reason: 'keys_unavailable', detail: 'Key server unreachable and no fresh keys cached.' };
      }
    }
    const found = await this.lookup(header);
    if (found.ok || found.reason !== 'kid_unknown') return found;
    // Possibly a rotation: refetch, but at most once per cooldown however many unknown kids
    // arrive. Calls that arrive while that fetch is in flight wait for it and look again.
    if (this.pending === undefined && now < this.lastAttemptAt + this.options.cooldownMs) return found;
    if (!(await this.refresh(now))) return found;
    return this.lookup(header);
  }

  /**
   * Looks the header up in the current set. A found key is current only until the set goes stale:
   * a verification cached longer would keep a token working after its key was retired from the
   * JWKS (or while the key server is down), which the refetch rule exists to prevent.
   */
  private async lookup(header: { alg: string; kid?: string | undefined }): Promise<KeyLookup> {
    const found = await lookupInLocalSet(this.set as ReturnType<typeof createLocalJWKSet>, header);
    return found.ok ? { ...found, freshUntilMs: this.fetchedAt + this.options.cacheMaxAgeMs, generation: this.fetches } : found;
  }

  /** Fetches the set now unless a fetch is in flight (shared) or one failed within the cooldown. */
  private refresh(now: number): Promise<boolean> {
    if (this.pending) return this.pending;
    if (now < this.lastAttemptAt + this.options.cooldownMs && this.fetchedAt < this.lastAttemptAt) {
      return Promise.resolve(false);
    }
    this.lastAttemptAt = now;
    this.pending = this.fetchSet().then(
      (set) => {
        this.set = set;
        this.fetches += 1;
        this.fetchedAt = this.options.clock();
        this.lastAttemptAt = this.fetchedAt;
        // An early refetch (an unknown kid: a rotation) may show a key retired, say after a
        // compromise: tokens verified with it must not go on working from the verification cache
        // until the old set would have gone stale (up to cacheMaxAge). They are verified again.
        this.options.onRefreshed?.();
        return true;
      },
      (err: unknown) => {
        this.options.logger?.warn({ url: this.options.url, err: String(err) }, 'JWKS fetch failed');
        return false;
      },
    );
    void this.pending.finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchSet(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const res = await this.options.fetch(this.options.url, {
      method: 'GET',
      redirect: 'manual',
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`JWKS HTTP ${res.status}`);
    }
    const text = await readBounded(res, MAX_JWKS_BYTES);
    return createLocalJWKSet(JSON.parse(text) as Parameters<typeof createLocalJWKSet>[0]);
  }
}
