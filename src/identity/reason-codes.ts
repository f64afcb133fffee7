import type { Principal } from '../core/principal.js';

/**
 * Every reason an identity check can fail, with its HTTP status and a fixed description.
 * Descriptions are fixed strings (no token content) so they are safe in headers and logs.
 */
export const IDENTITY_REASONS = {
  token_missing: [401, 'No bearer token was presented.'],
  auth_scheme_invalid: [401, 'The Authorization header must use the Bearer scheme.'],
  token_unavailable: [401, 'The configured stdio token could not be read.'],
  token_too_large: [401, 'The token exceeds the 8 KiB size limit.'],
  token_whitespace: [401, 'The token contains whitespace.'],
  token_segments: [401, 'The token must have exactly three dot-separated segments.'],
  token_encoding: [401, 'A token segment is not unpadded base64url.'],
  header_invalid: [401, 'The token header is not a JSON object.'],
  payload_invalid: [401, 'The token payload is not JSON.'],
  payload_not_object: [401, 'The token payload is not a JSON object.'],
  duplicate_header_param: [401, 'The token header repeats a parameter name.'],
  duplicate_claim: [401, 'The token payload repeats a claim name.'],
  alg_none: [401, 'Unsigned tokens (alg none) are never accepted.'],
  alg_symmetric_not_allowed: [401, 'Symmetric (HMAC) algorithms are not accepted for this issuer.'],
  alg_not_allowed: [401, 'The token algorithm is not allowed for this issuer.'],
  header_embedded_key: [401, 'Keys embedded or referenced in the token header (jwk, jku, x5u, x5c) are not trusted.'],
  crit_unsupported: [401, 'The token marks a header parameter critical that is not supported.'],
  typ_mismatch: [401, 'The token typ header is not the required type.'],
  not_access_token: [401, 'The token is a security event, logout or OpenID Connect ID token (events, at_hash or c_hash claim), not an access token.'],
  issuer_missing: [401, 'The token has no iss claim.'],
  issuer_untrusted: [401, 'The token issuer is not trusted.'],
  kid_unknown: [401, 'No trusted key matches the token key id.'],
  keys_unavailable: [401, 'The issuer signing keys are unavailable; tokens are rejected until they can be fetched.'],
  signature_missing: [401, 'The token has no signature.'],
  signature_invalid: [401, 'The token signature is invalid.'],
  exp_missing: [401, 'The token has no exp claim.'],
  exp_invalid: [401, 'The token exp claim is not a number.'],
  claim_invalid: [401, 'A token time claim (nbf, iat) is not a number.'],
  claim_missing: [401, 'A required claim is missing.'],
  sub_missing: [401, 'The token has no sub claim (the user).'],
  token_expired: [401, 'The token has expired.'],
  token_not_yet_valid: [401, 'The token is not valid yet (nbf in the future).'],
  iat_in_future: [401, 'The token was issued in the future (iat).'],
  token_too_old: [401, 'The token is older than the maximum token age.'],
  lifetime_exceeded: [401, 'The token lifetime exceeds the maximum.'],
  audience_missing: [401, 'The token has no aud claim.'],
  audience_mismatch: [401, 'The token audience is not this server.'],
  actor_invalid: [401, 'The token act claim is malformed.'],
  actor_chain_too_deep: [401, 'The token delegation chain is too deep.'],
  may_act_invalid: [401, 'The token may_act claim is malformed.'],
  actor_not_allowed: [401, 'The acting party is not allowed by the may_act claim.'],
  token_invalid: [401, 'The token is invalid.'],
  insufficient_scope: [403, 'The token lacks a required scope.'],
  token_revoked: [401, 'The token was revoked (a security event or an operator); sign in again for a new token.'],
  internal: [401, 'The token could not be verified.'],
} as const satisfies Record<string, readonly [401 | 403, string]>;

export type IdentityReason = keyof typeof IDENTITY_REASONS;

/** All reason codes, for docs and exhaustive tests. */
export const IDENTITY_REASON_CODES = Object.keys(IDENTITY_REASONS) as IdentityReason[];

/** Outcome of verifying one token. Failures are values with a stable reason code. */
export type VerifyOutcome =
  | { readonly ok: true; readonly principal: Principal; readonly cacheUntilMs: number }
  | { readonly ok: false; readonly reason: IdentityReason; readonly description: string };

/** A failed outcome with the fixed description of `reason` (optionally more detail, never token content). */
export function fail(reason: IdentityReason, detail?: string): VerifyOutcome & { ok: false } {
  const base = IDENTITY_REASONS[reason][1];
  return { ok: false, reason, description: detail ? `${base} ${detail}` : base };
}
