import { createLocalJWKSet, errors, type CryptoKey, type JSONWebKeySet, type JWTHeaderParameters } from 'jose';

/** Result of finding the verification key(s) for a token header. */
export type KeyLookup =
  | {
      readonly ok: true;
      readonly keys: readonly (CryptoKey | Uint8Array)[];
      /** When these keys stop being current (a remote set goes stale): no verification is cached past it. */
      readonly freshUntilMs?: number;
      /** Which fetch of a remote set these keys came from (see KeyResolver.generation). */
      readonly generation?: number;
    }
  | { readonly ok: false; readonly reason: 'kid_unknown' | 'keys_unavailable' | 'alg_not_allowed'; readonly detail?: string };

/** Finds the keys that may have signed a token with this header. Never trusts keys from the token. */
export interface KeyResolver {
  resolve(header: { alg: string; kid?: string | undefined }): Promise<KeyLookup>;
  /**
   * A remote set: how many times it was fetched. A verification made with keys of an earlier
   * fetch is not cached (the set it was checked against is no longer the one in force).
   */
  readonly generation?: number;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** Tries more keys than this only when the issuer publishes many kid-less keys; bounded on purpose. */
const MAX_CANDIDATES = 4;

/** Looks a header up in a jose local key set, mapping jose's errors to reason codes. */
export async function lookupInLocalSet(set: LocalSet, header: { alg: string; kid?: string | undefined }): Promise<KeyLookup> {
  const h: JWTHeaderParameters = header.kid === undefined ? { alg: header.alg } : { alg: header.alg, kid: header.kid };
  try {
    return { ok: true, keys: [await set(h)] };
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey) return { ok: false, reason: 'kid_unknown' };
    if (err instanceof errors.JWKSMultipleMatchingKeys) {
      // No kid and several keys fit: try each (bounded) rather than guessing one.
      const keys: CryptoKey[] = [];
      for await (const key of err as unknown as AsyncIterable<CryptoKey>) {
        keys.push(key);
        if (keys.length >= MAX_CANDIDATES) break;
      }
      return keys.length > 0 ? { ok: true, keys } : { ok: false, reason: 'kid_unknown' };
    }
    if (err instanceof errors.JOSENotSupported) return { ok: false, reason: 'alg_not_allowed' };
    throw err;
  }
}

/** A fixed key set (local JWKS file or configured public keys). */
export function staticKeyResolver(jwks: JSONWebKeySet): KeyResolver {
  const set = createLocalJWKSet(jwks);
  return { resolve: (header) => lookupInLocalSet(set, header) };
}

/** The explicitly unsafe shared-secret resolver (HS256/384/512), local development only. */
export function sharedSecretResolver(secret: Uint8Array): KeyResolver {
  const keys = [secret];
  return {
    resolve: async (header) =>
      header.alg.startsWith('HS') ? { ok: true, keys } : { ok: false, reason: 'alg_not_allowed' },
  };
}
