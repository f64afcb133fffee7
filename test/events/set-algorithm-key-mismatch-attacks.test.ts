import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { createSetReceiver } from '../../src/events/set-receiver.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { AUDIENCE, CAEP, ISSUER, MemoryAudit, makeKey, mintSet, post } from './set-helpers.js';

/**
 * A SET signed with an algorithm the transmitter's PEM key cannot check (ES384 for a P-256 key,
 * RS256 or EdDSA for an EC key) can never verify: it is the sender's to fix, a final 400
 * `invalid_key`. WebCrypto's own error for the curve mismatch was taken for a key server being
 * down, a 503 that has the transmitter (or anyone posting to the receiver) send it again for as
 * long as it retries; jose's "not supported" was called a malformed SET.
 */
describe('SET whose algorithm does not fit the transmitter PEM key', () => {
  const NOW_SEC = Math.floor(Date.now() / 1000);
  const clock = () => NOW_SEC * 1000;
  const audit = new MemoryAudit();
  const store = new MemoryStateStore();
  let registry: SubjectRegistry;
  let server: Server;
  let url: string;
  const p256 = makeKey('k1');

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-set-alg-'));
    const pem = createPublicKey({ key: (await p256).jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    writeFileSync(join(dir, 'transmitter.pem'), pem);
    const config = EventsConfigSchema.parse({
      transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { publicKeyPemFile: join(dir, 'transmitter.pem') }, algorithms: ['ES256', 'ES384', 'RS256', 'EdDSA'] },
    });
    registry = new SubjectRegistry({ settings: config, store, audit, clock });
    server = createServer(createSetReceiver({ config, registry, audit, clock, store }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const revokeAlice = (alg: string, privateKey: CryptoKey) =>
    new SignJWT({ sub_id: { format: 'iss_sub', iss: ISSUER, sub: 'alice' }, events: { [`${CAEP}session-revoked`]: {} } })
      .setProtectedHeader({ alg, typ: 'secevent+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW_SEC)
      .setJti(`set-${alg}`)
      .sign(privateKey);

  for (const alg of ['ES384', 'RS256', 'EdDSA']) {
    it(`answers a SET signed ${alg} for a P-256 key with a final 400 invalid_key, not a retryable 503`, async () => {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      const res = await post(url, await revokeAlice(alg, privateKey));
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ err: 'invalid_key' });
      expect(registry.list(clock())).toHaveLength(0);
    });
  }

  it('still accepts a SET signed with the key it has', async () => {
    const res = await post(url, await mintSet({ key: await p256, iatSec: NOW_SEC, subId: { format: 'iss_sub', iss: ISSUER, sub: 'alice' }, events: { [`${CAEP}session-revoked`]: {} } }));
    expect(res.status).toBe(202);
    expect(registry.list(clock())).toHaveLength(1);
  });
});
