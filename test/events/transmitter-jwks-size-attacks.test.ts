import { afterEach, describe, expect, it } from 'vitest';
import { ENDLESS_JWKS_BYTES, endlessKeyServer as startEndlessKeyServer, type EndlessKeyServer } from '../helpers/endless-key-server.js';
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
const NOW_SEC = 1_700_000_000;

let server: EndlessKeyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Started for one test; afterEach stops it. */
async function endlessKeyServer(withLength: boolean): Promise<EndlessKeyServer> {
  server = await startEndlessKeyServer(withLength);
  return server;
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
    expect(ks.sent()).toBeLessThan(ENDLESS_JWKS_BYTES / 4);
  });

  it('refuses a transmitter JWKS whose content-length is over the bound without reading it', async () => {
    const ks = await endlessKeyServer(true);
    expect(await verifyAgainst(ks.url)).toMatchObject({ ok: false, err: 'invalid_key', retryable: true });
    expect(ks.sent()).toBeLessThan(ENDLESS_JWKS_BYTES / 4);
  });
});
