import { afterEach, describe, expect, it } from 'vitest';
import { ENDLESS_JWKS_BYTES, endlessKeyServer as startEndlessKeyServer, type EndlessKeyServer } from '../helpers/endless-key-server.js';
import { generateSigningKey } from '../../src/identity/dev-tokens.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { AUD, ISS, NOW_MS, claims, identityConfig, token } from './token-forge.js';

/**
 * A key server (or whoever answers for it) that streams an endless JWKS must not make warden
 * buffer it: the 1 MiB bound on a JWKS document has to stop the download, not judge it afterwards.
 */

let server: EndlessKeyServer | undefined;
let auth: JwtAuthenticator | undefined;
afterEach(async () => {
  await auth?.close();
  await server?.close();
  server = undefined;
});

/** Started for one test; afterEach stops it. */
async function endlessKeyServer(withLength: boolean): Promise<EndlessKeyServer> {
  server = await startEndlessKeyServer(withLength);
  return server;
}

async function verifyAgainst(url: string): Promise<string> {
  const key = await generateSigningKey({ alg: 'ES256', kid: 'k1' });
  auth = await createJwtAuthenticator(
    identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksUri: url, algorithms: ['ES256'], maxTokenLifetime: '2h' }] }),
    { clock: () => NOW_MS },
  );
  const t = token(key, claims({ jti: 'j', iat: Math.floor(NOW_MS / 1000), exp: Math.floor(NOW_MS / 1000) + 600 }));
  const o = await auth.verifyToken(t);
  return o.ok ? 'ok' : o.reason;
}

describe('oversized JWKS responses', () => {
  it('stops downloading an endless chunked JWKS at the size bound (keys_unavailable)', async () => {
    const ks = await endlessKeyServer(false);
    expect(await verifyAgainst(ks.url)).toBe('keys_unavailable');
    expect(ks.sent()).toBeLessThan(ENDLESS_JWKS_BYTES / 4);
  });

  it('refuses a JWKS whose content-length is over the bound without reading it', async () => {
    const ks = await endlessKeyServer(true);
    expect(await verifyAgainst(ks.url)).toBe('keys_unavailable');
    expect(ks.sent()).toBeLessThan(ENDLESS_JWKS_BYTES / 4);
  });
});
