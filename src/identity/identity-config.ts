import { z } from 'zod';
import { DurationSchema } from './duration.js';

/** Asymmetric JWS algorithms warden accepts. `none` is never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
] as const;
/** Symmetric algorithms: only with the explicitly unsafe `dangerouslyAllowSharedSecret`. */
export const SYMMETRIC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

const AlgorithmSchema = z.enum([...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS]);

/**
 * Keys fetched over plain http can be swapped by anyone on the path, which lets them mint
 * tokens: only https, or http to the local machine.
 */
export function isSecureKeyUrl(value: string): boolean {
  // Not a URL at all: false, so the schema reports it with its key path (a throw here escaped
  // zod as a bare "TypeError: Invalid URL" naming neither the file nor the key).
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** One public key given inline or by file. A PEM needs `alg` (a JWK may carry its own). */
export const PublicKeySchema = z
  .strictObject({
    kid: z.string().min(1).optional(),
    alg: z.enum(ASYMMETRIC_ALGORITHMS).optional(),
    pem: z.string().min(1).optional(),
    pemFile: z.string().min(1).optional(),
    jwk: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((k) => [k.pem, k.pemFile, k.jwk].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of pem, pemFile, jwk',
  });

/** Remote JWKS cache behaviour; the defaults are jose's (5 s timeout, 30 s cooldown, 10 min cache). */
export const JwksCacheSchema = z.strictObject({
  // At least a millisecond: a zero timeout aborts every fetch, so every token would be refused.
  timeout: DurationSchema.refine((s) => s >= 0.001, { message: 'timeout must be at least 1ms' }).default(5),
  cooldown: DurationSchema.default(30),
  cacheMaxAge: DurationSchema.default(600),
});

/** A shared HMAC secret: for local development only, hence the name. Never inline in config. */
export const SharedSecretSchema = z
  .strictObject({ env: z.string().min(1).optional(), file: z.string().min(1).optional() })
  .refine((s) => (s.env === undefined) !== (s.file === undefined), { message: 'give exactly one of env, file' });

export const TrustedIssuerSchema = z
  .strictObject({
    /** Exact `iss` value; compared byte for byte (a trailing slash is a different issuer). */
    issuer: z.string().min(1),
    /** This warden's audience as the issuer writes it (RFC 8707 resource). */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** https only (plain http is accepted for loopback hosts, e.g. a local test IdP). */
    jwksUri: z
      .url()
      .refine((u) => isSecureKeyUrl(u), { message: 'jwksUri must use https (http only for localhost/127.0.0.1/[::1])' })
      .optional(),
    jwksFile: z.string().min(1).optional(),
    publicKeys: z.array(PublicKeySchema).min(1).optional(),
    dangerouslyAllowSharedSecret: SharedSecretSchema.optional(),
    algorithms: z.array(AlgorithmSchema).min(1).default(['ES256', 'EdDSA', 'RS256', 'PS256']),
    clockTolerance: DurationSchema.default(30),
    /** Longest accepted `exp - iat` (or `exp - now` without `iat`). */
    maxTokenLifetime: DurationSchema.default(86_400),
    /** Oldest accepted `iat`; optional (requires `iat` when set). */
    maxTokenAge: DurationSchema.optional(),
    /** Claims that must be present; `exp` and `sub` are always required. */
    requiredClaims: z.array(z.string().min(1)).default([]),
    /** Required JWT `typ` header, e.g. `at+jwt` (RFC 9068). */
    typ: z.string().min(1).optional(),
    jwks: JwksCacheSchema.default({ timeout: 5, cooldown: 30, cacheMaxAge: 600 }),
  })
  .superRefine((iss, ctx) => {
    const sources = [iss.jwksUri, iss.jwksFile, iss.publicKeys, iss.dangerouslyAllowSharedSecret];
    if (sources.filter((s) => s !== undefined).length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one key source: jwksUri, jwksFile, publicKeys or dangerouslyAllowSharedSecret',
      });
    }
    const symmetric = iss.algorithms.filter((a) => a.startsWith('HS'));
    if (symmetric.length > 0 && iss.dangerouslyAllowSharedSecret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['algorithms'],
        message: `${symmetric.join(', ')} needs dangerouslyAllowSharedSecret (local development only)`,
      });
    }
    if (iss.dangerouslyAllowSharedSecret !== undefined && symmetric.length !== iss.algorithms.length) {
      ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'a shared secret issuer may list only HS256/384/512' });
    }
  });

/** Where the stdio token comes from: an environment variable or a file (re-read when it changes). */
export const StdioTokenSourceSchema = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
]);

/** The `identity` config section. */
export const IdentityConfigSchema = z
  .strictObject({
    /** Warden's canonical resource URL (RFC 9728 `resource`). */
    resource: z.url(),
    issuers: z.array(TrustedIssuerSchema).min(1),
    /** Scopes every call needs; missing ones → 403 insufficient_scope. */
    requiredScopes: z.array(z.string().min(1)).default([]),
    /** Claim names copied into Principal.claims (e.g. groups, roles, tenant). */
    extraClaims: z.array(z.string().min(1)).default([]),
    /** stdio only: where the process token comes from. */
    token: StdioTokenSourceSchema.optional(),
    cache: z.strictObject({ maxEntries: z.number().int().min(1).max(1_000_000).default(10_000) }).default({
      maxEntries: 10_000,
    }),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.issuers.forEach((iss, i) => {
      if (seen.has(iss.issuer)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'issuer'], message: 'duplicate issuer' });
      seen.add(iss.issuer);
    });
  });

export type IdentityConfig = z.infer<typeof IdentityConfigSchema>;
/** Input form (before defaults and duration parsing), e.g. for building config in code. */
export type IdentityConfigInput = z.input<typeof IdentityConfigSchema>;
export type TrustedIssuer = z.infer<typeof TrustedIssuerSchema>;
export type StdioTokenSource = z.infer<typeof StdioTokenSourceSchema>;
