import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { loadTransmitterKeys, verifySet } from '../../src/events/set-verifier.js';
import { AUDIENCE, CAEP, ISSUER, makeKey, mintSet } from './set-helpers.js';

/**
 * The transmitter's key server (or whoever answers for it) streaming an endless JWKS must not make
 * warden buffer it: jose's remote key set reads the whole response before parsing it, so the SET
 * receiver held as much as the server sent within the fetch timeout (gigabytes over a fast link),
 * where the token issuers' key sets stop at 1 MiB. Refused like an unreachable key server: 503, the
 * transmitter retries.
 */
const TOTAL = 64 * 1024 * 1024;
const NOW_SEC = 1_700_000_000;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

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

async function verifyAgainst(url: string) {
  const config = EventsConfigSchema.parse({ transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: url }, algorithms: ['ES256'] } });
  const key = await makeKey('k1');
  const set = await mintSet({ key, iatSec: NOW_SEC, subId: { format: 'opaque', id: 'alice' }, events: { [`${CAEP}session-revoked`]: {} } });
  return verifySet(set, loadTransmitterKeys(config.transmitter.keys), config, NOW_SEC * 1000);
}

describe('oversized transmitter JWKS responses', () => {
  it('stops downloading an endless chunked transmitter JWKS at the size bound (503, retried)', async () => {
    const ks = await endlessKeyServer(false);
    expect(await verifyAgainst(ks.url)).toMatchObject({ ok: false, err: 'invalid_key', retryable: true });
    expect(ks.sent()).toBeLessThan(TOTAL / 4);
  });

  it('refuses a transmitter JWKS whose content-length is over the bound without reading it', async () => {
    const ks = await endlessKeyServer(true);
    expect(await verifyAgainst(ks.url)).toMatchObject({ ok: false, err: 'invalid_key', retryable: true });
    expect(ks.sent()).toBeLessThan(TOTAL / 4);
  });
});
