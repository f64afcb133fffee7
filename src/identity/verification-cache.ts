import { LRUCache } from 'lru-cache';
import type { AuthResult } from '../core/authenticator.js';
import type { Principal } from '../core/principal.js';

/** One cached verification: valid until `untilMs` (the token's `exp`, never later). */
export interface CachedVerification {
  readonly principal: Principal;
  readonly untilMs: number;
  /** The AuthResult handed to the proxy (ok, or 403 when required scopes are missing). */
  readonly auth: AuthResult;
}

/**
 * Bounded cache of successful verifications so steady-state calls cost no cryptography.
 *
 * Keyed by the exact token string, not a hash of it. Why this is safe and cheaper: the Map
 * compares full strings, so two different tokens can never share an entry (no collision to
 * reason about); the token is already in this process's memory for the request it came with,
 * and entries die at `exp` or on eviction. A sha256 of a ~1 KB token costs ~1-2 µs per call,
 * which alone would blow the 2 µs identity budget. Hash only if keys ever leave the process
 * (a shared cache, logs): then store `sha256(token)`, never the token.
 *
 * Expiry uses the injected clock, checked on every hit, so a frozen or fake clock is exact.
 */
export class VerificationCache {
  private readonly lru: LRUCache<string, CachedVerification>;

  constructor(maxEntries: number) {
    this.lru = new LRUCache<string, CachedVerification>({
      max: maxEntries,
      // Bound memory as well as count: tokens may be up to 8 KiB each.
      maxSize: Math.max(maxEntries, 1) * 2048,
      sizeCalculation: (_v, key) => key.length + 256,
    });
  }

  get(token: string, nowMs: number): CachedVerification | undefined {
    const hit = this.lru.get(token);
    if (hit === undefined) return undefined;
    if (nowMs >= hit.untilMs) {
      // Past exp: drop it; a re-verification decides (and rejects unless within tolerance).
      this.lru.delete(token);
      return undefined;
    }
    return hit;
  }

  set(token: string, entry: CachedVerification, nowMs: number): void {
    if (entry.untilMs > nowMs) this.lru.set(token, entry);
  }

  /** Drops every cached verification whose principal matches; returns how many were dropped. */
  invalidate(predicate: (p: Principal) => boolean): number {
    const doomed: string[] = [];
    for (const [token, entry] of this.lru.entries()) if (predicate(entry.principal)) doomed.push(token);
    for (const token of doomed) this.lru.delete(token);
    return doomed.length;
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }
}
