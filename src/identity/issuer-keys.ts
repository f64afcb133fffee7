import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportJWK, importSPKI, importX509, importJWK, type JWK, type JSONWebKeySet } from 'jose';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';
import type { TrustedIssuer } from './identity-config.js';
import { sharedSecretResolver, staticKeyResolver, type KeyResolver } from './key-set.js';
import { RemoteKeySet } from './remote-key-set.js';

export interface KeyLoadContext {
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  readonly logger?: Logger | undefined;
  /** Key path of this issuer in the config, e.g. `identity.issuers[0]`, for error messages. */
  readonly keyPath: string;
  /** A remote key set of this issuer was fetched (again). */
  readonly onKeysRefreshed?: (() => void) | undefined;
}

/** Private-key members of a JWK: a trusted key set must never contain them. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/**
 * Builds the key resolver for one trusted issuer. Local keys are read and imported now, so a
 * bad key file fails start-up naming the key, not the first request.
 */
export async function loadIssuerKeys(issuer: TrustedIssuer, ctx: KeyLoadContext): Promise<KeyResolver> {
  if (issuer.jwksUri !== undefined) {
    return new RemoteKeySet({
      url: issuer.jwksUri,
      // Whole milliseconds: AbortSignal.timeout throws on a fraction, which `2300ms` (2.3 s) gives
      // back after the conversion to seconds; every fetch then failed and every token was refused.
      timeoutMs: Math.round(issuer.jwks.timeout * 1000),
      cooldownMs: issuer.jwks.cooldown * 1000,
      cacheMaxAgeMs: issuer.jwks.cacheMaxAge * 1000,
      clock: ctx.clock,
      fetch: ctx.fetch,
      logger: ctx.logger,
      onRefreshed: ctx.onKeysRefreshed,
    });
  }
  if (issuer.jwksFile !== undefined) {
    const where = `${ctx.keyPath}.jwksFile`;
    const jwks = parseJson(readText(resolve(ctx.baseDir, issuer.jwksFile), where), where) as JSONWebKeySet;
    await checkPublicSet(jwks, where);
    return staticKeyResolver(jwks);
  }
  if (issuer.publicKeys !== undefined) {
    const keys: JWK[] = [];
    for (const [i, key] of issuer.publicKeys.entries()) {
      keys.push(await publicKeyToJwk(key, ctx, `${ctx.keyPath}.publicKeys[${i}]`));
    }
    const jwks = { keys } as JSONWebKeySet;
    await checkPublicSet(jwks, `${ctx.keyPath}.publicKeys`);
    return staticKeyResolver(jwks);
  }
  const secret = issuer.dangerouslyAllowSharedSecret;
  if (secret === undefined) throw new ConfigError('no key source', { keyPath: ctx.keyPath });
  const where = `${ctx.keyPath}.dangerouslyAllowSharedSecret`;
  const text = secret.env !== undefined ? ctx.env[secret.env] : readText(resolve(ctx.baseDir, secret.file ?? ''), where).trim();
  if (text === undefined || text === '') throw new ConfigError(`shared secret is empty or unset`, { keyPath: where });
  const bytes = new TextEncoder().encode(text);
  // Short HMAC secrets are brute-forceable offline from any one token.
  if (bytes.length < 32) throw new ConfigError('shared secret must be at least 32 bytes', { keyPath: where });
  ctx.logger?.warn({ issuer: issuer.issuer }, 'UNSAFE: shared-secret (HMAC) tokens accepted for this issuer; local development only');
  return sharedSecretResolver(bytes);
}

function readText(file: string, keyPath: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, { keyPath }, { cause: err });
  }
}

function parseJson(text: string, keyPath: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`not valid JSON: ${(err as Error).message}`, { keyPath }, { cause: err });
  }
}

async function publicKeyToJwk(
  key: NonNullable<TrustedIssuer['publicKeys']>[number],
  ctx: KeyLoadContext,
  where: string,
): Promise<JWK> {
  let jwk: JWK;
  if (key.jwk !== undefined) {
    jwk = { ...(key.jwk as JWK) };
  } else {
    const pem = key.pem ?? readText(resolve(ctx.baseDir, key.pemFile ?? ''), `${where}.pemFile`);
    if (key.alg === undefined) throw new ConfigError('a PEM key needs alg', { keyPath: `${where}.alg` });
    try {
      const imported = pem.includes('BEGIN CERTIFICATE')
        ? await importX509(pem, key.alg, { extractable: true })
        : await importSPKI(pem, key.alg, { extractable: true });
      jwk = await exportJWK(imported);
    } catch (err) {
      throw new ConfigError(`not a ${key.alg} public key: ${(err as Error).message}`, { keyPath: where }, { cause: err });
    }
  }
  if (key.kid !== undefined) jwk.kid = key.kid;
  if (key.alg !== undefined) jwk.alg = key.alg;
  return jwk;
}

/** Rejects private members and keys jose cannot import, at start-up. */
async function checkPublicSet(jwks: JSONWebKeySet, where: string): Promise<void> {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) {
    throw new ConfigError('not a JWKS (expected {"keys": [...]})', { keyPath: where });
  }
  for (const [i, jwk] of jwks.keys.entries()) {
    if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m))) {
      throw new ConfigError('contains private or symmetric key material; list public keys only', { keyPath: `${where}.keys[${i}]` });
    }
    if (typeof jwk.alg !== 'string') continue;
    try {
      await importJWK(jwk, jwk.alg);
    } catch (err) {
      throw new ConfigError(`key cannot be imported: ${(err as Error).message}`, { keyPath: `${where}.keys[${i}]` }, { cause: err });
    }
  }
}
