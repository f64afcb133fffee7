import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/identity/dev-tokens.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { AUD, ISS, NOW_MS, claims, identityConfig, token } from './token-forge.js';

/**
 * A key server (or whoever answers for it) that streams an endless JWKS must not make warden
 * buffer it: the 1 MiB bound on a JWKS document has to stop the download, not judge it afterwards.
 */
const TOTAL = 64 * 1024 * 1024;

let server: Server | undefined;
let auth: JwtAuthenticator | undefined;
afterEach(async () => {
  await auth?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

/** Streams up to 64 MiB of JSON-ish bytes (chunked, no content-length); counts what went out. */
async function endlessKeyServer(withLength: boolean): Promise<{ url: string; sent: () => number }> {
  let sent = 0;
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...(withLength ? { 'content-length': String(TOTAL) } : {}) });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const pump = (): void => {
      while (!closed && sent < TOTAL) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/jwks.json`, sent: () => sent };
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
    expect(ks.sent()).toBeLessThan(TOTAL / 4);
  });

  it('refuses a JWKS whose content-length is over the bound without reading it', async () => {
    const ks = await endlessKeyServer(true);
    expect(await verifyAgainst(ks.url)).toBe('keys_unavailable');
    expect(ks.sent()).toBeLessThan(TOTAL / 4);
  });
});
