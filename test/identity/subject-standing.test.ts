import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';
import type { Principal } from '../../src/core/principal.js';
import { createJwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { AUD, ISS, NOW_MS, identityConfig } from './token-forge.js';

/** After a token verifies (cached or not), the security-event state has its say: revocations, and required scopes a claims change removed. */
let key: SigningKey;
beforeAll(async () => {
  key = await generateSigningKey({ alg: 'ES256', kid: 'k1' });
});

async function authenticator(extra: Record<string, unknown> = {}, stdioToken?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-refuse-revoked-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(key.jwks));
  if (stdioToken) writeFileSync(join(dir, 'agent.jwt'), stdioToken);
  const cfg = identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksFile: 'jwks.json', algorithms: ['ES256'] }], ...(stdioToken ? { token: { file: 'agent.jwt' } } : {}), ...extra });
  return createJwtAuthenticator(cfg, { clock: () => NOW_MS, baseDir: dir });
}
const mint = (sub: string, scope?: string) => mintToken({ key, issuer: ISS, audience: AUD, subject: sub, ttlSeconds: 600, nowMs: NOW_MS, ...(scope ? { scope } : {}) });
const bearer = async (sub: string, scope?: string) => `Bearer ${await mint(sub, scope)}`;
/** A claims change that took the user's scopes away. */
const scopesRemoved = { isRevoked: () => false, effective: (p: Principal) => ({ ...p, scopes: [] }) };

describe('authenticateHttp with revocations', () => {
  it('revoked token replay: a verified (even cached) token of a revoked user gets 401 token_revoked', async () => {
    const auth = await authenticator();
    const alice = await bearer('alice');
    expect(await auth.authenticateHttp(alice)).toMatchObject({ ok: true }); // now cached
    auth.followSubjects({ isRevoked: (p) => p.user === 'alice', effective: (p) => p });
    const refused = await auth.authenticateHttp(alice);
    expect(refused).toMatchObject({ ok: false, status: 401, reason: 'token_revoked' });
    expect(refused.ok === false && refused.wwwAuthenticate).toContain('error="invalid_token"');
    expect(await auth.authenticateHttp(await bearer('bob'))).toMatchObject({ ok: true });
    await auth.close();
  });

  it('scope downgrade ignored: a token whose required scope a claims change removed gets 403, over HTTP and stdio', async () => {
    const token = await mint('alice', 'tools:call');
    const auth = await authenticator({ requiredScopes: ['tools:call'] }, token);
    expect(await auth.authenticateHttp(`Bearer ${token}`)).toMatchObject({ ok: true });
    expect(await auth.authenticateStdio()).toMatchObject({ ok: true });
    auth.followSubjects(scopesRemoved);
    expect(await auth.authenticateHttp(`Bearer ${token}`)).toMatchObject({ ok: false, status: 403, reason: 'insufficient_scope' });
    expect(await auth.authenticateStdio()).toMatchObject({ ok: false, status: 403, reason: 'insufficient_scope' });
    // Overrides that keep the required scopes change nothing here (the guard applies them to decisions).
    auth.followSubjects({ isRevoked: () => false, effective: (p) => ({ ...p, acr: 'x' }) });
    expect(await auth.authenticateHttp(`Bearer ${token}`)).toMatchObject({ ok: true, principal: { user: 'alice' } });
    await auth.close();
  });

  it('a revocation check that fails refuses the request (fail closed)', async () => {
    const auth = await authenticator();
    auth.followSubjects({
      isRevoked: () => {
        throw new Error('registry unavailable');
      },
      effective: (p) => p,
    });
    expect(await auth.authenticateHttp(await bearer('bob'))).toMatchObject({ ok: false, reason: 'token_revoked' });
    await auth.close();
  });
});
