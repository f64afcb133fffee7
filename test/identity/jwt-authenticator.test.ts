import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent, AuditSink } from '../../src/audit/audit-sink.js';
import { ConfigError } from '../../src/core/errors.js';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';
import { IdentityConfigSchema } from '../../src/identity/identity-config.js';
import { createJwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { TokenVerifier } from '../../src/identity/token-verifier.js';
import { AUD, ISS, NOW, NOW_MS, RESOURCE, claims, identityConfig, signHmac, token } from './token-forge.js';

let key: SigningKey;
let dir: string;

beforeAll(async () => {
  key = await generateSigningKey({ alg: 'EdDSA', kid: 'ed1' });
  dir = mkdtempSync(join(tmpdir(), 'warden-identity-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(key.jwks));
});

const issuer = (extra: Record<string, unknown> = {}) => ({ issuer: ISS, audience: AUD, jwksFile: 'jwks.json', algorithms: ['EdDSA' as const], ...extra });

function memoryAudit(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, record: (e) => void events.push(e), healthy: () => true, close: async () => undefined };
}

describe('principal from claims', () => {
  it('maps user, actor chain, client, scopes, session and extra claims', async () => {
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()], extraClaims: ['groups', 'tenant'] }), { clock: () => NOW_MS, baseDir: dir });
    const t = token(key, claims({
      act: { sub: 'agent-7', act: { sub: 'planner', act: { sub: 'orchestrator' } } },
      scope: undefined, scp: ['tools:call', 'files:read'], azp: 'cli-app', sid: 'S-1', auth_time: NOW - 100,
      acr: 'urn:mfa', amr: ['pwd', 'otp'], jti: 'J-1', groups: ['dev'], tenant: 'acme', secret_claim: 'x',
    }));
    const r = await auth.authenticateHttp(`Bearer ${t}`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.principal).toMatchObject({
      issuer: ISS, user: 'alice', actor: 'agent-7', priorActors: ['planner', 'orchestrator'], clientId: 'cli-app',
      scopes: ['tools:call', 'files:read'], sessionId: 'S-1', authTime: NOW - 100, acr: 'urn:mfa', amr: ['pwd', 'otp'],
      issuedAt: NOW, expiresAt: NOW + 600, tokenId: 'J-1', claims: { groups: ['dev'], tenant: 'acme' }, anonymous: false,
    });
    expect(r.principal.claims).not.toHaveProperty('secret_claim');
    // Cached and shared across calls, so nothing in it can be changed by a later stage.
    expect(Object.isFrozen(r.principal.claims['groups'])).toBe(true);
    expect(Object.isFrozen(r.principal.priorActors)).toBe(true);
  });

  it('prefers client_id over azp and accepts a user token without act', async () => {
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()] }), { clock: () => NOW_MS, baseDir: dir });
    const r = await auth.verifyToken(token(key, claims({ act: undefined, client_id: 'c1', azp: 'c2' })));
    expect(r.ok && [r.principal.actor, r.principal.clientId, r.principal.scopes]).toEqual([undefined, 'c1', ['tools:call', 'files:read']]);
  });
});

describe('verification cache', () => {
  it('verifies a token once, then serves it from the cache', async () => {
    const spy = vi.spyOn(TokenVerifier.prototype, 'verify');
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()] }), { clock: () => NOW_MS, baseDir: dir });
    const t = token(key, claims());
    for (let i = 0; i < 5; i++) expect((await auth.authenticateHttp(`Bearer ${t}`)).ok).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('shares one verification across a burst of requests with the same new token', async () => {
    const spy = vi.spyOn(TokenVerifier.prototype, 'verify');
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()] }), { clock: () => NOW_MS, baseDir: dir });
    const t = token(key, claims());
    const results = await Promise.all(Array.from({ length: 20 }, () => auth.authenticateHttp(`Bearer ${t}`)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('never serves a cached verification past exp', async () => {
    let now = NOW_MS;
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer({ clockTolerance: 0 })] }), { clock: () => now, baseDir: dir });
    const t = token(key, claims({ exp: NOW + 60 }));
    expect((await auth.verifyToken(t)).ok).toBe(true);
    now = (NOW + 60) * 1000;
    const r = await auth.verifyToken(t);
    expect(r.ok ? 'ok' : r.reason).toBe('token_expired');
  });

  it('rejects a token that copies a cached token\'s signature (same cache locator)', async () => {
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()] }), { clock: () => NOW_MS, baseDir: dir });
    const alice = token(key, claims());
    expect((await auth.authenticateHttp(`Bearer ${alice}`)).ok).toBe(true);
    const [h, , sig] = alice.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url')}.${sig}`;
    const r = await auth.authenticateHttp(`Bearer ${forged}`);
    expect(r.ok ? r.principal.user : r.reason).toBe('signature_invalid');
    expect((await auth.authenticateHttp(`Bearer ${alice}`)).ok).toBe(true);
  });

  it('drops cached verifications matching an invalidate predicate', async () => {
    const spy = vi.spyOn(TokenVerifier.prototype, 'verify');
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()] }), { clock: () => NOW_MS, baseDir: dir });
    const alice = token(key, claims());
    const bob = token(key, claims({ sub: 'bob' }));
    await auth.verifyToken(alice);
    await auth.verifyToken(bob);
    expect(auth.invalidate((p) => p.user === 'alice')).toBe(1);
    await auth.verifyToken(alice);
    await auth.verifyToken(bob);
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockRestore();
  });
});

describe('scopes and HTTP results', () => {
  it('returns 403 insufficient_scope naming the required scope', async () => {
    const audit = memoryAudit();
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()], requiredScopes: ['tools:call', 'admin'] }), { clock: () => NOW_MS, baseDir: dir, audit });
    const r = await auth.authenticateHttp(`Bearer ${token(key, claims())}`);
    expect(r.ok ? 'ok' : [r.status, r.reason]).toEqual([403, 'insufficient_scope']);
    if (r.ok) return;
    expect(r.wwwAuthenticate).toContain('error="insufficient_scope"');
    expect(r.wwwAuthenticate).toContain('scope="tools:call admin"');
    expect(audit.events.map((e) => e['reason'])).toEqual(['insufficient_scope']);
  });

  it('records identity.failed with the reason and a digest, never the token', async () => {
    const audit = memoryAudit();
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()] }), { clock: () => NOW_MS, baseDir: dir, audit });
    const bad = token(key, claims({ aud: 'https://elsewhere.test' }));
    await auth.authenticateHttp(`Bearer ${bad}`);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ type: 'identity.failed', reason: 'audience_mismatch', transport: 'http' });
    expect(String(audit.events[0]?.['tokenDigest'])).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(audit.events)).not.toContain(bad.split('.')[2]);
  });

  it('still rejects when the audit sink throws', async () => {
    const audit: AuditSink = { record: () => { throw new Error('disk full'); }, healthy: () => false, close: async () => undefined };
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()] }), { clock: () => NOW_MS, baseDir: dir, audit });
    const r = await auth.authenticateHttp('Bearer x.y.z');
    expect(r.ok ? 'ok' : r.reason).not.toBe('ok');
  });

  it('serves RFC 9728 protected-resource metadata', async () => {
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [issuer()], requiredScopes: ['tools:call'] }), { baseDir: dir });
    expect(auth.protectedResourceMetadata()).toEqual({
      resource: RESOURCE, authorization_servers: [ISS], bearer_methods_supported: ['header'], scopes_supported: ['tools:call'],
    });
  });
});

describe('identity config', () => {
  const parse = (issuers: unknown[], extra: Record<string, unknown> = {}) =>
    IdentityConfigSchema.safeParse({ resource: RESOURCE, issuers, ...extra });

  it('rejects HS256 without dangerouslyAllowSharedSecret', () => {
    const r = parse([{ issuer: ISS, audience: AUD, jwksFile: 'x', algorithms: ['HS256'] }]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['issuers', 0, 'algorithms']);
  });
  it('rejects alg none in the allowlist', () => {
    expect(parse([{ issuer: ISS, audience: AUD, jwksFile: 'x', algorithms: ['none'] }]).success).toBe(false);
  });
  it('rejects unknown keys (strict)', () => {
    expect(parse([{ issuer: ISS, audience: AUD, jwksFile: 'x', algorithm: ['ES256'] }]).success).toBe(false);
    expect(parse([{ issuer: ISS, audience: AUD, jwksFile: 'x' }], { requiredScope: ['a'] }).success).toBe(false);
  });
  it('rejects zero or two key sources', () => {
    expect(parse([{ issuer: ISS, audience: AUD }]).success).toBe(false);
    expect(parse([{ issuer: ISS, audience: AUD, jwksFile: 'x', jwksUri: 'https://idp.test/jwks' }]).success).toBe(false);
  });
  it('rejects a plain-http jwksUri except on loopback', () => {
    expect(parse([{ issuer: ISS, audience: AUD, jwksUri: 'http://idp.test/jwks' }]).success).toBe(false);
    expect(parse([{ issuer: ISS, audience: AUD, jwksUri: 'http://127.0.0.1:8080/jwks' }]).success).toBe(true);
    expect(parse([{ issuer: ISS, audience: AUD, jwksUri: 'https://idp.test/jwks' }]).success).toBe(true);
  });
  it('rejects a bad duration and duplicate issuers', () => {
    expect(parse([{ issuer: ISS, audience: AUD, jwksFile: 'x', clockTolerance: 'soon' }]).success).toBe(false);
    expect(parse([{ issuer: ISS, audience: AUD, jwksFile: 'x' }, { issuer: ISS, audience: AUD, jwksFile: 'y' }]).success).toBe(false);
  });
  it('fails start-up naming the key when a JWKS file holds a private key', async () => {
    writeFileSync(join(dir, 'private.json'), JSON.stringify({ keys: [key.privateJwk] }));
    const err = await createJwtAuthenticator(identityConfig({ issuers: [issuer({ jwksFile: 'private.json' })] }), { baseDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).keyPath).toBe('identity.issuers[0].jwksFile.keys[0]');
  });
  it('fails start-up when the JWKS file is missing', async () => {
    const err = await createJwtAuthenticator(identityConfig({ issuers: [issuer({ jwksFile: 'missing.json' })] }), { baseDir: dir }).catch((e: unknown) => e);
    expect((err as ConfigError).code).toBe('config_invalid');
  });
  it('accepts PEM public keys', async () => {
    const { exportSPKI, importJWK } = await import('jose');
    const es = await generateSigningKey({ alg: 'ES256', kid: 'pem1' });
    const pem = await exportSPKI((await importJWK(es.publicJwk, 'ES256')) as never);
    const auth = await createJwtAuthenticator(identityConfig({ issuers: [{ issuer: ISS, audience: AUD, publicKeys: [{ pem, alg: 'ES256', kid: 'pem1' }], algorithms: ['ES256'] }] }), { clock: () => NOW_MS });
    const r = await auth.verifyToken(await mintToken({ key: es, issuer: ISS, audience: AUD, subject: 'alice', nowMs: NOW_MS }));
    expect(r.ok ? 'ok' : r.reason).toBe('ok');
  });
  it('accepts HMAC tokens only with the unsafe shared-secret option (local development)', async () => {
    const secret = 's'.repeat(40);
    const cfg = identityConfig({ issuers: [{ issuer: ISS, audience: AUD, dangerouslyAllowSharedSecret: { env: 'DEV_SECRET' }, algorithms: ['HS256'] }] });
    const auth = await createJwtAuthenticator(cfg, { clock: () => NOW_MS, env: { DEV_SECRET: secret } });
    expect((await auth.verifyToken(signHmac({ alg: 'HS256' }, claims(), secret))).ok).toBe(true);
    const wrong = await auth.verifyToken(signHmac({ alg: 'HS256' }, claims(), 'x'.repeat(40)));
    expect(wrong.ok ? 'ok' : wrong.reason).toBe('signature_invalid');
    const short = await createJwtAuthenticator(cfg, { env: { DEV_SECRET: 'short' } }).catch((e: unknown) => e);
    expect((short as ConfigError).keyPath).toBe('identity.issuers[0].dangerouslyAllowSharedSecret');
  });
});
