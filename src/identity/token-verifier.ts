import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import type { Clock } from '../core/clock.js';
import type { TrustedIssuer } from './identity-config.js';
import type { KeyResolver } from './key-set.js';
import { principalFromClaims } from './claims-to-principal.js';
import { fail, type IdentityReason, type VerifyOutcome } from './reason-codes.js';
import { precheckToken, type RawToken } from './token-precheck.js';

/** A trusted issuer ready for verification. */
export interface IssuerEntry {
  readonly config: TrustedIssuer;
  readonly keys: KeyResolver;
}

type Failure = VerifyOutcome & { ok: false };

/** Explicitly typed JWTs that are not access tokens (SET, back-channel logout). */
const FOREIGN_TYPES = new Set(['application/secevent+jwt', 'application/logout+jwt']);

/** Same normalisation as jose and RFC 7515 §4.1.9: `at+jwt` equals `application/at+jwt`, case-insensitive. */
function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}

/** Maps a jose claim/signature error to our reason code. Unknown errors are internal (fail closed). */
export function reasonFromJoseError(err: unknown): IdentityReason {
  if (err instanceof errors.JWTExpired) return err.claim === 'iat' ? 'token_too_old' : 'token_expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = err;
    if (claim === 'exp') return reason === 'missing' ? 'exp_missing' : 'exp_invalid';
    if (claim === 'aud') return reason === 'missing' ? 'audience_missing' : 'audience_mismatch';
    if (claim === 'iss') return 'issuer_untrusted';
    if (claim === 'sub') return 'sub_missing';
    if (claim === 'typ') return 'typ_mismatch';
    if (reason === 'missing') return 'claim_missing';
    if (reason === 'invalid') return 'claim_invalid';
    if (claim === 'nbf') return 'token_not_yet_valid';
    if (claim === 'iat') return 'iat_in_future';
    return 'token_invalid';
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature_invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'token_invalid';
  return 'internal';
}

/**
 * Verifies compact JWTs against the trusted issuers: cheap structural checks first, then the
 * issuer chosen by exact `iss`, its algorithm allowlist and key source (never keys named by the
 * token), then jose's signature and claims checks with every option set, then our own checks
 * jose does not make (iat in the future, maximum lifetime, delegation).
 */
export class TokenVerifier {
  constructor(
    private readonly issuers: ReadonlyMap<string, IssuerEntry>,
    private readonly extraClaims: readonly string[],
    private readonly clock: Clock,
  ) {}

  async verify(token: string): Promise<VerifyOutcome> {
    const pre = precheckToken(token);
    if (!pre.ok) return pre;
    const selected = this.selectIssuer(pre.raw);
    if ('reason' in selected) return selected;
    const nowMs = this.clock();
    const verified = await this.verifySignatureAndClaims(token, pre.raw, selected, nowMs);
    if (!verified.ok) return verified;
    const post = this.postChecks(verified.claims, selected.config, nowMs);
    if (post) return post;
    const built = principalFromClaims(verified.claims, this.extraClaims);
    if (!built.ok) return built;
    // Keys of a set refetched while this verification ran: valid now, but not cached (the refetch
    // dropped what was cached with the old set, and this must not slip in after it).
    const keysReplaced = verified.generation !== undefined && verified.generation !== selected.keys.generation;
    const cacheUntilMs = keysReplaced ? nowMs : Math.min(this.cacheUntil(verified.claims, selected.config), verified.keysFreshUntilMs);
    return { ok: true, principal: built.principal, cacheUntilMs };
  }

  private selectIssuer(raw: RawToken): IssuerEntry | Failure {
    const iss = raw.payload['iss'];
    if (typeof iss !== 'string') return fail('issuer_missing');
    // Exact match: `https://idp/` and `https://idp` are different issuers.
    const entry = this.issuers.get(iss);
    if (entry === undefined) return fail('issuer_untrusted');
    const alg = raw.header['alg'] as string;
    const cfg = entry.config;
    // HS256 "signed" with a public key (alg confusion) lands here: no shared secret, no HMAC.
    if (/^HS/i.test(alg) && cfg.dangerouslyAllowSharedSecret === undefined) return fail('alg_symmetric_not_allowed');
    if (!(cfg.algorithms as readonly string[]).includes(alg)) return fail('alg_not_allowed');
    const typ = raw.header['typ'];
    if (cfg.typ !== undefined) {
      if (typeof typ !== 'string' || normalizeTyp(typ) !== normalizeTyp(cfg.typ)) return fail('typ_mismatch');
    } else if (typeof typ === 'string' && FOREIGN_TYPES.has(normalizeTyp(typ))) {
      // Cross-JWT confusion (RFC 8725 §2.8): an event or logout token is never an access token,
      // even when the same issuer and key signed it.
      return fail('typ_mismatch');
    }
    // `typ` is only RECOMMENDED for SETs (RFC 8417 §2.3) and back-channel logout tokens, and a
    // logout token about any user (with sub and exp) goes to every client of the issuer: without
    // this, one that leaves out `typ` passed as that user's access token wherever the issuer
    // writes the client's id as warden's audience. Their `events` claim says what they are.
    if (Object.hasOwn(raw.payload, 'events')) return fail('not_access_token');
    // An OpenID Connect ID token is signed by the same keys and names the user in `sub`; where
    // warden's audience is also an OIDC client's id, one would pass as that user's access token.
    // `at_hash` and `c_hash` exist only in ID tokens (OIDC Core §3.1.3.6, §3.3.2.11). Not every ID
    // token carries one: `typ: at+jwt` (RFC 9068) is the complete answer, where the IdP sets it.
    if (Object.hasOwn(raw.payload, 'at_hash') || Object.hasOwn(raw.payload, 'c_hash')) return fail('not_access_token');
    return entry;
  }

  private async verifySignatureAndClaims(
    token: string,
    raw: RawToken,
    issuer: IssuerEntry,
    nowMs: number,
  ): Promise<{ ok: true; claims: Record<string, unknown>; keysFreshUntilMs: number; generation: number | undefined } | Failure> {
    const cfg = issuer.config;
    const lookup = await issuer.keys.resolve({ alg: raw.header['alg'] as string, kid: raw.header['kid'] as string | undefined });
    if (!lookup.ok) return fail(lookup.reason, lookup.detail);
    const options: JWTVerifyOptions = {
      algorithms: cfg.algorithms,
      issuer: cfg.issuer,
      audience: cfg.audience,
      requiredClaims: ['exp', 'sub', ...cfg.requiredClaims],
      clockTolerance: cfg.clockTolerance,
      currentDate: new Date(nowMs),
      ...(cfg.maxTokenAge !== undefined ? { maxTokenAge: cfg.maxTokenAge } : {}),
      ...(cfg.typ !== undefined ? { typ: cfg.typ } : {}),
    };
    let lastError: unknown;
    for (const key of lookup.keys) {
      try {
        const { payload } = await jwtVerify(token, key, options);
        return { ok: true, claims: payload as Record<string, unknown>, keysFreshUntilMs: lookup.freshUntilMs ?? Number.POSITIVE_INFINITY, generation: lookup.generation };
      } catch (err) {
        lastError = err;
        // Several kid-less candidate keys: a signature mismatch means "try the next one".
        if (!(err instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    return fail(reasonFromJoseError(lastError));
  }

  /** Checks jose leaves out: `iat` in the future (jose checks it only with maxTokenAge) and lifetime. */
  private postChecks(claims: Record<string, unknown>, cfg: TrustedIssuer, nowMs: number): Failure | undefined {
    const now = Math.floor(nowMs / 1000);
    const iat = claims['iat'];
    if (iat !== undefined && typeof iat !== 'number') return fail('claim_invalid');
    if (typeof iat === 'number' && iat > now + cfg.clockTolerance) return fail('iat_in_future');
    const exp = claims['exp'] as number;
    const start = typeof iat === 'number' ? iat : now;
    if (exp - start > cfg.maxTokenLifetime) return fail('lifetime_exceeded');
    return undefined;
  }

  /** Cache a verification until `exp` (and, with a maximum age, until the token gets too old). */
  private cacheUntil(claims: Record<string, unknown>, cfg: TrustedIssuer): number {
    let until = (claims['exp'] as number) * 1000;
    const iat = claims['iat'];
    if (cfg.maxTokenAge !== undefined && typeof iat === 'number') until = Math.min(until, (iat + cfg.maxTokenAge) * 1000);
    return until;
  }
}
