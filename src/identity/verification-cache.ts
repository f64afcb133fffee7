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

/** Characters at the end of the token used as the map key (always within the signature). */
const KEY_CHARS = 48;

/**
 * Bounded cache of successful verifications so steady-state calls cost no cryptography.
 *
 * Why not a sha256 of the token: hashing a ~1 KB token costs ~1-2 µs per call, the whole
 * budget. Why not the whole token as a Map key: V8 hashes every character of a new string
 * (each request's header is a new string), ~1 µs for 1 KB as well. Instead the key is the last
 * 48 characters of the token, which lie inside the signature (every JWS signature we accept is
 * at least 43 base64url characters, i.e. 256 bits of signature output), so distinct tokens
 * almost never share a key; and the entry stores the full token, which must be *equal* to the
 * presented one (a memcmp) before the entry is used. So the key is only a locator: a collision
 * (even a deliberate one: copying a victim's signature onto another token) can only cause a
 * miss and a fresh verification, never the wrong principal. Nothing is persisted, so the token
 * text stays in this process's memory only as long as the entry (until `exp` or eviction).
 * If keys ever leave the process (a shared cache), store `sha256(token)` instead.
 *
 * Expiry uses the injected clock, checked on every hit, so a frozen or fake clock is exact.
 */
export class VerificationCache {
  private readonly lru: LRUCache<string, CachedVerification & { readonly token: string }>;

  constructor(maxEntries: number) {
    this.lru = new LRUCache<string, CachedVerification & { readonly token: string }>({
      max: maxEntries,
      // Bound memory as well as count: tokens may be up to 8 KiB each.
      maxSize: Math.max(maxEntries, 1) * 2048,
      sizeCalculation: (v) => v.token.length + 256,
    });
  }

  get(token: string, nowMs: number): CachedVerification | undefined {
    const key = keyOf(token);
    const hit = this.lru.get(key);
    // Same locator, different token: not ours (see class comment). Verify it afresh.
    if (hit === undefined || hit.token !== token) return undefined;
    if (nowMs >= hit.untilMs) {
      // Past exp: drop it; a re-verification decides (and rejects unless within tolerance).
      this.lru.delete(key);
      return undefined;
    }
    return hit;
  }

  set(token: string, entry: CachedVerification, nowMs: number): void {
    if (entry.untilMs > nowMs) this.lru.set(keyOf(token), { ...entry, token });
  }

  /** Drops every cached verification whose principal matches; returns how many were dropped. */
  invalidate(predicate: (p: Principal) => boolean): number {
    const doomed: string[] = [];
    for (const [key, entry] of this.lru.entries()) if (predicate(entry.principal)) doomed.push(key);
    for (const key of doomed) this.lru.delete(key);
    return doomed.length;
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }
}

function keyOf(token: string): string {
  return token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token;
}
