import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';
import { createJwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { AUD, ISS, NOW_MS, identityConfig } from './token-forge.js';

/** The HTTP front consults revocations after a token verifies (cached or not). */
let key: SigningKey;
beforeAll(async () => {
  key = await generateSigningKey({ alg: 'ES256', kid: 'k1' });
});

async function authenticator() {
  const dir = mkdtempSync(join(tmpdir(), 'warden-refuse-revoked-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(key.jwks));
  const cfg = identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksFile: 'jwks.json', algorithms: ['ES256'] }] });
  return createJwtAuthenticator(cfg, { clock: () => NOW_MS, baseDir: dir });
}
const bearer = async (sub: string) => `Bearer ${await mintToken({ key, issuer: ISS, audience: AUD, subject: sub, ttlSeconds: 600, nowMs: NOW_MS })}`;

describe('authenticateHttp with revocations', () => {
  it('revoked token replay: a verified (even cached) token of a revoked user gets 401 token_revoked', async () => {
    const auth = await authenticator();
    const alice = await bearer('alice');
    expect(await auth.authenticateHttp(alice)).toMatchObject({ ok: true }); // now cached
    auth.refuseRevoked((p) => p.user === 'alice');
    const refused = await auth.authenticateHttp(alice);
    expect(refused).toMatchObject({ ok: false, status: 401, reason: 'token_revoked' });
    expect(refused.ok === false && refused.wwwAuthenticate).toContain('error="invalid_token"');
    expect(await auth.authenticateHttp(await bearer('bob'))).toMatchObject({ ok: true });
    await auth.close();
  });

  it('a revocation check that fails refuses the request (fail closed)', async () => {
    const auth = await authenticator();
    auth.refuseRevoked(() => {
      throw new Error('registry unavailable');
    });
    expect(await auth.authenticateHttp(await bearer('bob'))).toMatchObject({ ok: false, reason: 'token_revoked' });
    await auth.close();
  });
});
