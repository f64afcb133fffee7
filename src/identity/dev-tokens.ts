import {
  SignJWT, calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair,
  type CryptoKey, type JWK,
} from 'jose';
import { randomUUID } from 'node:crypto';
import { importJwkFor, importPemFor } from './key-algorithm-fit.js';

/** Algorithms `warden token keygen` can create. */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** A freshly generated key pair for development and tests. */
export interface SigningKey {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** Private JWK including `alg`, `kid` and `use`; keep it secret (keygen writes it mode 0600). */
  readonly privateJwk: JWK;
  /** Public JWK including `alg`, `kid` and `use`. */
  readonly publicJwk: JWK;
  /** `{ keys: [publicJwk] }`, ready to serve or write as a JWKS file. */
  readonly jwks: { keys: JWK[] };
}

/**
 * Generates a signing key pair (ES256 default, EdDSA/Ed25519, or RS256 2048-bit). The kid
 * defaults to the RFC 7638 thumbprint of the public key.
 */
export async function generateSigningKey(options: { alg?: SigningAlgorithm; kid?: string } = {}): Promise<SigningKey> {
  const alg = options.alg ?? 'ES256';
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const publicBase = await exportJWK(pair.publicKey);
  const kid = options.kid ?? (await calculateJwkThumbprint(publicBase));
  const publicJwk: JWK = { ...publicBase, kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(pair.privateKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, privateJwk, publicJwk, jwks: { keys: [publicJwk] } };
}

/** PKCS#8 PEM of a private key (for `keygen --format pem`). */
export function privateKeyToPem(key: SigningKey): Promise<string> {
  return exportPKCS8(key.privateKey);
}

/** A private key loaded from a file: a private JWK (carrying alg/kid) or a PKCS#8 PEM (needs alg). */
export interface LoadedSigningKey {
  readonly key: CryptoKey;
  readonly alg: string;
  readonly kid: string | undefined;
}

/**
 * Loads a private signing key from JWK JSON text or PKCS#8 PEM text. Throws with a clear message;
 * an algorithm that does not fit the key is a KeyAlgorithmMismatchError naming those that do.
 */
export async function loadSigningKey(text: string, hints: { alg?: string; kid?: string } = {}): Promise<LoadedSigningKey> {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    if (hints.alg === undefined) throw new Error('a PEM key needs --alg (ES256, EdDSA or RS256)');
    const key = await importPemFor(trimmed, hints.alg);
    if (key instanceof Uint8Array) throw new Error('symmetric keys are not supported for minting');
    return { key, alg: hints.alg, kid: hints.kid };
  }
  const jwk = JSON.parse(trimmed) as JWK;
  if (typeof jwk.d !== 'string') throw new Error('the key file holds no private key (JWK without "d")');
  const alg = hints.alg ?? jwk.alg;
  if (alg === undefined) throw new Error('the JWK has no "alg"; pass --alg');
  const key = await importJwkFor(jwk, alg, hints.alg !== undefined ? 'option' : 'jwk');
  if (key instanceof Uint8Array) throw new Error('symmetric keys are not supported for minting');
  return { key, alg, kid: hints.kid ?? jwk.kid };
}

/** What `mintToken` puts in a token. Times are epoch milliseconds / seconds as named. */
export interface MintOptions {
  readonly key: CryptoKey | SigningKey | LoadedSigningKey;
  /** Required when `key` is a bare CryptoKey. */
  readonly alg?: string;
  readonly kid?: string;
  readonly issuer: string;
  readonly audience: string | string[];
  /** The user (`sub`). */
  readonly subject: string;
  /** The agent acting now (`act.sub`). */
  readonly actor?: string;
  /** Prior actors, most recent first (nested `act`). */
  readonly actorChain?: readonly string[];
  /** The acting agent's own issuer (`act.iss`): warden keys an agent by (`act.iss`, `act.sub`). */
  readonly actorIssuer?: string;
  /** Space-separated scopes (`scope`). */
  readonly scope?: string;
  /** Lifetime in seconds (default 900 = 15 min). */
  readonly ttlSeconds?: number;
  readonly sessionId?: string;
  /** JWT `typ` header (default `JWT`). */
  readonly typ?: string;
  /** Extra claims; applied last, so they can override anything for negative tests. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** "Now" in epoch milliseconds (default Date.now()); sets `iat`, and `exp` = iat + ttl. */
  readonly nowMs?: number;
}

/** Nested `act` claim: `{sub: actor, iss?: actorIssuer, act: {sub: prior1, act: {...}}}`. */
export function actClaim(actor: string, prior: readonly string[] = [], actorIssuer?: string): Record<string, unknown> {
  let act: Record<string, unknown> | undefined;
  for (const sub of [...prior].reverse()) act = act ? { sub, act } : { sub };
  return { sub: actor, ...(actorIssuer !== undefined ? { iss: actorIssuer } : {}), ...(act ? { act } : {}) };
}

/** Signs a development/test token. The demo and tests use this, never hard-coded tokens. */
export async function mintToken(options: MintOptions): Promise<string> {
  const { key, alg, kid } = resolveKey(options);
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    sub: options.subject,
    aud: options.audience,
    iat,
    exp: iat + (options.ttlSeconds ?? 900),
    jti: randomUUID(),
  };
  if (options.actor !== undefined) claims['act'] = actClaim(options.actor, options.actorChain, options.actorIssuer);
  if (options.scope !== undefined) claims['scope'] = options.scope;
  if (options.sessionId !== undefined) claims['sid'] = options.sessionId;
  Object.assign(claims, options.claims);
  const header = { alg, typ: options.typ ?? 'JWT', ...(kid !== undefined ? { kid } : {}) };
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

function resolveKey(o: MintOptions): { key: CryptoKey; alg: string; kid: string | undefined } {
  if ('privateKey' in o.key) return { key: o.key.privateKey, alg: o.alg ?? o.key.alg, kid: o.kid ?? o.key.kid };
  if ('key' in o.key && 'alg' in o.key) return { key: o.key.key, alg: o.alg ?? o.key.alg, kid: o.kid ?? o.key.kid };
  if (o.alg === undefined) throw new Error('mintToken: alg is required with a bare CryptoKey');
  return { key: o.key as CryptoKey, alg: o.alg, kid: o.kid };
}
