import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { AuthResult, Authenticator } from '../core/authenticator.js';
import { sha256Hex } from '../core/canonical-json.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { andThen, type MaybePromise } from '../core/maybe-promise.js';
import type { Principal } from '../core/principal.js';
import type { Logger } from '../logging/logger.js';
import type { IdentityConfig } from './identity-config.js';
import { loadIssuerKeys } from './issuer-keys.js';
import { IDENTITY_REASONS, fail, type IdentityReason, type VerifyOutcome } from './reason-codes.js';
import { createTokenSource, type TokenSource } from './stdio-token-source.js';
import { MAX_TOKEN_BYTES } from './token-precheck.js';
import { TokenVerifier, type IssuerEntry } from './token-verifier.js';
import { VerificationCache, type CachedVerification } from './verification-cache.js';
import { protectedResourceMetadataUrl, wwwAuthenticate } from './www-authenticate.js';

/** The JWT authenticator: the proxy's Authenticator plus direct verification and cache control. */
export interface JwtAuthenticator extends Authenticator {
  /** Verifies one compact JWT (cached until its `exp`). Never throws for a bad token. */
  verifyToken(token: string): Promise<VerifyOutcome>;
  /** Drops cached verifications whose principal matches (claims change, revocation). Returns the count. */
  invalidate(predicate: (p: Principal) => boolean): number;
  protectedResourceMetadata(): Record<string, unknown>;
  /** Verification-cache counters since start (for metrics and the benchmark). */
  cacheStats(): { hits: number; misses: number; size: number };
  /**
   * Wires the security-event state once it exists: HTTP requests whose token is revoked get 401
   * `token_revoked`, and a token whose required scopes a claims change removed gets 403
   * `insufficient_scope`, over HTTP and stdio.
   */
  followSubjects(subjects: SubjectStanding): void;
  close(): Promise<void>;
}

/** What the security-event state says about a verified principal now. */
export interface SubjectStanding {
  isRevoked(principal: Principal): boolean;
  /** The principal with claim overrides from claims-change events applied (itself when none). */
  effective(principal: Principal): Principal;
}

export interface JwtAuthenticatorDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly audit?: AuditSink;
  readonly fetch?: typeof fetch;
  /** Directory relative key/token file paths resolve against (the config file's). Default: cwd. */
  readonly baseDir?: string;
  /** Environment for `token: {env}` and shared secrets. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

type Transport = 'http' | 'stdio';
type Verified = CachedVerification;
type Rejected = VerifyOutcome & { ok: false };

/**
 * Creates the JWT authenticator from the `identity` config section. Loads local keys now and,
 * when a stdio token is configured, verifies it now: an invalid token fails start-up with a
 * ConfigError naming `identity.token` and the reason code.
 */
export async function createJwtAuthenticator(config: IdentityConfig, deps: JwtAuthenticatorDeps = {}): Promise<JwtAuthenticator> {
  const clock = deps.clock ?? systemClock;
  const baseDir = deps.baseDir ?? process.cwd();
  const env = deps.env ?? process.env;
  const issuers = new Map<string, IssuerEntry>();
  // Bound once the authenticator exists; a remote set is first fetched on the first token.
  let keysRefreshed: (issuer: string) => void = () => undefined;
  for (const [i, iss] of config.issuers.entries()) {
    const keys = await loadIssuerKeys(iss, {
      baseDir, env, clock, fetch: deps.fetch ?? fetch, logger: deps.logger, keyPath: `identity.issuers[${i}]`,
      onKeysRefreshed: () => keysRefreshed(iss.issuer),
    });
    issuers.set(iss.issuer, { config: iss, keys });
  }
  const auth = new JwtAuthenticatorImpl(config, new TokenVerifier(issuers, config.extraClaims, clock), clock, deps);
  // A refetched key set may have retired the key a cached verification was made with: the
  // issuer's cached verifications are dropped and made again against the set now in force.
  keysRefreshed = (issuer) => void auth.invalidate((p) => p.issuer === issuer);
  if (config.token !== undefined) {
    auth.tokenSource = createTokenSource(config.token, { baseDir, env, logger: deps.logger });
    await auth.checkStdioAtStartup();
  }
  return auth;
}

class JwtAuthenticatorImpl implements JwtAuthenticator {
  tokenSource: TokenSource | undefined;
  private readonly cache: VerificationCache;
  private readonly metadataUrl: string;
  private readonly requiredScopes: readonly string[];
  private readonly inflight = new Map<string, Promise<Verified | Rejected>>();
  /** Set once the security-event state exists (it is wired after the authenticator): see followSubjects. */
  private subjects: SubjectStanding | undefined;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly config: IdentityConfig,
    private readonly verifier: TokenVerifier,
    private readonly clock: Clock,
    private readonly deps: JwtAuthenticatorDeps,
  ) {
    this.cache = new VerificationCache(config.cache.maxEntries);
    this.metadataUrl = protectedResourceMetadataUrl(config.resource);
    this.requiredScopes = config.requiredScopes;
  }

  async verifyToken(token: string): Promise<VerifyOutcome> {
    const entry = await this.verifyCached(token);
    return 'principal' in entry ? { ok: true, principal: entry.principal, cacheUntilMs: entry.untilMs } : entry;
  }

  async authenticateHttp(authorization: string | undefined): Promise<AuthResult> {
    if (authorization === undefined || authorization === '') return this.reject('token_missing', 'http');
    // Bound the work before any parsing (a header far beyond the token limit is not a token).
    if (authorization.length > MAX_TOKEN_BYTES + 16) return this.reject('token_too_large', 'http');
    // RFC 7235: the scheme is case-insensitive; exactly one space follows it.
    if (authorization.length < 7 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') {
      return this.reject('auth_scheme_invalid', 'http');
    }
    const token = authorization.slice(7);
    if (token === '') return this.reject('token_missing', 'http');
    const entry = this.lookup(token) ?? (await this.verifyCached(token));
    if ('auth' in entry) {
      const result = this.scoped(entry.auth, 'http', token);
      if (!result.ok) return result;
      if (this.revoked(result.principal)) return this.reject('token_revoked', 'http', undefined, token);
      return this.standing(result, 'http', token);
    }
    return this.reject(entry.reason, 'http', entry.description, token);
  }

  /**
   * From now on an HTTP request whose token is revoked is refused with 401 `token_revoked`
   * before it reaches a session: a revoked token neither opens sessions nor lists tools, reads
   * resources or gets prompts, and the agent's client is told to sign in again. (Over stdio the
   * process token's calls are refused by the guard, with the same reason in the result.) And a
   * claims change that removed a required scope makes the token's requests 403
   * `insufficient_scope`, over HTTP and stdio, as if the token itself lacked it.
   */
  followSubjects(subjects: SubjectStanding): void {
    this.subjects = subjects;
  }

  private revoked(principal: Principal): boolean {
    if (!this.subjects) return false;
    try {
      return this.subjects.isRevoked(principal);
    } catch (err) {
      // Revocations could not be consulted: refuse (fail closed), the client will retry.
      this.deps.logger?.error({ err: String(err) }, 'revocation check failed; request refused');
      return true;
    }
  }

  /** A verified, in-scope result, unless claim overrides removed a required scope since (then 403). */
  private standing(result: AuthResult & { ok: true }, transport: Transport, token: string): AuthResult {
    if (!this.subjects || this.requiredScopes.length === 0) return result;
    let effective: Principal;
    try {
      effective = this.subjects.effective(result.principal);
    } catch (err) {
      this.deps.logger?.error({ err: String(err) }, 'claims override lookup failed; request refused');
      return this.reject('internal', transport, undefined, token);
    }
    if (effective === result.principal) return result;
    const scoped = this.scopeCheck(effective);
    return scoped.ok ? result : this.scoped(scoped, transport, token);
  }

  /** Synchronous while the token's verification is cached (every call but the first after a change). */
  authenticateStdio(): MaybePromise<AuthResult> {
    const source = this.tokenSource;
    if (source === undefined) {
      return this.reject('token_unavailable', 'stdio', 'No identity.token (env or file) is configured for stdio.');
    }
    const read = source.read();
    if (!read.ok) return this.reject('token_unavailable', 'stdio', `${IDENTITY_REASONS.token_unavailable[1]} ${read.description}`);
    return andThen(this.lookup(read.token) ?? this.verifyCached(read.token), (entry) => this.stdioResult(source, read.token, entry));
  }

  private stdioResult(source: TokenSource, token: string, entry: Verified | Rejected): AuthResult {
    if ('auth' in entry) {
      const result = this.scoped(entry.auth, 'stdio', token);
      return result.ok ? this.standing(result, 'stdio', token) : result;
    }
    const description =
      entry.reason === 'token_expired'
        ? source.refreshable
          ? `The stdio token from ${source.origin} has expired; write a fresh token there (no restart needed).`
          : `The stdio token from ${source.origin} has expired; restart warden with a fresh token, or use token: { file } to refresh without restart.`
        : entry.description;
    return this.reject(entry.reason, 'stdio', description, token);
  }

  protectedResourceMetadata(): Record<string, unknown> {
    return {
      resource: this.config.resource,
      authorization_servers: this.config.issuers.map((i) => i.issuer),
      bearer_methods_supported: ['header'],
      ...(this.requiredScopes.length > 0 ? { scopes_supported: [...this.requiredScopes] } : {}),
    };
  }

  cacheStats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.cache.size };
  }

  /** The steady-state path: one LRU lookup and an expiry comparison, no cryptography. */
  private lookup(token: string): CachedVerification | undefined {
    const hit = this.cache.get(token, this.clock());
    if (hit !== undefined) this.hits++;
    return hit;
  }

  invalidate(predicate: (p: Principal) => boolean): number {
    return this.cache.invalidate(predicate);
  }

  async close(): Promise<void> {
    this.tokenSource?.close();
    this.cache.clear();
  }

  /** Fails start-up when the configured stdio token does not verify now. */
  async checkStdioAtStartup(): Promise<void> {
    const result = await this.authenticateStdio();
    if (!result.ok && result.status === 401) {
      this.tokenSource?.close();
      // The call-time description ("write a fresh token there, no restart needed") is wrong here:
      // warden does not start, so the fix is a fresh token and a new start.
      const description = result.reason === 'token_expired' ? `it has expired; put a fresh token in ${this.tokenSource?.origin} and start warden again` : result.description;
      throw new ConfigError(`the stdio token (${this.tokenSource?.origin}) is not valid: ${result.reason}: ${description}`, {
        keyPath: 'identity.token',
      });
    }
  }

  /** Cache lookup, else full verification; successes are cached with their AuthResult. */
  private verifyCached(token: string): Promise<Verified | Rejected> | Verified {
    const hit = this.lookup(token);
    if (hit) return hit;
    // A burst of requests with one new token shares one verification (and one key fetch).
    const pending = this.inflight.get(token);
    if (pending) return pending;
    this.misses++;
    const verification = this.verifyUncached(token).finally(() => this.inflight.delete(token));
    this.inflight.set(token, verification);
    return verification;
  }

  private async verifyUncached(token: string): Promise<Verified | Rejected> {
    let outcome: VerifyOutcome;
    try {
      outcome = await this.verifier.verify(token);
    } catch (err) {
      // Anything unexpected in verification rejects the token (fail closed).
      this.deps.logger?.error({ err: String(err) }, 'token verification error');
      outcome = fail('internal');
    }
    if (!outcome.ok) return outcome;
    const entry = { principal: outcome.principal, untilMs: outcome.cacheUntilMs, auth: this.scopeCheck(outcome.principal) };
    this.cache.set(token, entry, this.clock());
    return entry;
  }

  /** The AuthResult for a verified principal: ok, or 403 when a required scope is missing. */
  private scopeCheck(principal: Principal): AuthResult {
    const missing = this.requiredScopes.filter((s) => !principal.scopes.includes(s));
    if (missing.length === 0) return Object.freeze({ ok: true as const, principal });
    const scope = this.requiredScopes.join(' ');
    const description = `${IDENTITY_REASONS.insufficient_scope[1]} Missing: ${missing.join(' ')}.`;
    return Object.freeze({
      ok: false as const,
      status: 403 as const,
      reason: 'insufficient_scope',
      description,
      wwwAuthenticate: wwwAuthenticate(this.metadataUrl, { kind: 'insufficient_scope', description, scope }),
    });
  }

  private reject(reason: IdentityReason, transport: Transport, description?: string, token?: string): AuthResult {
    const text = description ?? IDENTITY_REASONS[reason][1];
    this.audit(reason, transport, token);
    return {
      ok: false,
      status: IDENTITY_REASONS[reason][0],
      reason,
      description: text,
      wwwAuthenticate: wwwAuthenticate(
        this.metadataUrl,
        reason === 'token_missing' ? { kind: 'missing' } : { kind: 'invalid_token', description: text },
      ),
    };
  }

  /** Passes a cached AuthResult through, auditing a 403 (the rejection is cached, the audit is per call). */
  private scoped(auth: AuthResult, transport: Transport, token: string): AuthResult {
    if (!auth.ok) this.audit('insufficient_scope', transport, token);
    return auth;
  }

  /** Records `identity.failed` with the reason and a digest of the token (never the token). */
  private audit(reason: IdentityReason, transport: Transport, token: string | undefined): void {
    if (!this.deps.audit) return;
    try {
      this.deps.audit.record(auditEvent('identity.failed', { reason, transport, tokenDigest: token !== undefined ? `sha256:${sha256Hex(token)}` : undefined }));
    } catch (err) {
      // The call is already rejected; an unhealthy sink cannot make it less so. Log and go on.
      this.deps.logger?.error({ err: String(err), reason }, 'audit sink rejected identity.failed');
    }
  }
}
