import { KeyObject, createHmac, sign } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { IdentityConfigSchema, type IdentityConfigInput } from '../../src/identity/identity-config.js';
import type { SigningKey } from '../../src/identity/dev-tokens.js';

/** Fixed "now" for identity tests: 2027-01-15T08:00:00Z. */
export const NOW_MS = 1_800_000_000_000;
export const NOW = NOW_MS / 1000;
export const ISS = 'https://idp.test';
export const AUD = 'https://warden.test/mcp';
export const RESOURCE = 'https://warden.test/mcp';

export function b64url(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

/** Signs arbitrary header/payload JSON text (duplicates, odd types) with a real key. */
export function signRaw(headerJson: string, payloadJson: string, key: SigningKey | CryptoKey, alg?: string): string {
  const input = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  const cryptoKey = 'privateKey' in key ? key.privateKey : key;
  const algorithm = alg ?? ('alg' in key ? key.alg : 'ES256');
  const keyObject = KeyObject.from(cryptoKey as unknown as Parameters<typeof KeyObject.from>[0]);
  let sig: Buffer;
  if (algorithm === 'EdDSA') sig = sign(null, Buffer.from(input), keyObject);
  else if (algorithm.startsWith('ES')) sig = sign(`sha${algorithm.slice(2)}`, Buffer.from(input), { key: keyObject, dsaEncoding: 'ieee-p1363' });
  else if (algorithm.startsWith('PS')) sig = sign(`sha${algorithm.slice(2)}`, Buffer.from(input), { key: keyObject, padding: 6, saltLength: 32 });
  else sig = sign(`sha${algorithm.slice(2)}`, Buffer.from(input), keyObject);
  return `${input}.${sig.toString('base64url')}`;
}

/** HMAC-signs header/payload with any bytes as the secret (for alg-confusion tokens). */
export function signHmac(header: object, payload: object, secret: string | Buffer): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Standard claims for a valid delegation token at NOW. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISS, aud: AUD, sub: 'alice', act: { sub: 'agent-7' }, iat: NOW, exp: NOW + 600, scope: 'tools:call files:read', ...overrides };
}

/** Signs claims with header {alg, kid, typ} (header fields overridable; `undefined` deletes). */
export function token(key: SigningKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const h: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'JWT', ...header };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return signRaw(JSON.stringify(h), JSON.stringify(payload), key, h['alg'] as string);
}

/** Parsed identity config for tests with sensible strict defaults. */
export function identityConfig(input: Partial<IdentityConfigInput> & { issuers: IdentityConfigInput['issuers'] }) {
  return IdentityConfigSchema.parse({ resource: RESOURCE, ...input });
}
