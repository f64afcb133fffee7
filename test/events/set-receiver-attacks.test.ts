import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { base64url, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { createSetReceiver } from '../../src/events/set-receiver.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { AUDIENCE, CAEP, ISSUER, makeKey, MemoryAudit, mintSet, post, principal } from './set-helpers.js';
import { NOW_SEC, startFixture, type ReceiverFixture } from './receiver-fixture.js';

const REVOKE_ALICE = { [`${CAEP}session-revoked`]: {} };
const ALICE = { format: 'iss_sub', iss: ISSUER, sub: 'alice' };

describe('SET receiver: attacks and malformed deliveries', () => {
  let f: ReceiverFixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(async () => f.close());
  afterEach(() => {
    // Every case below must leave the registry untouched.
    expect(f.registry.list()).toHaveLength(0);
    expect(f.revoked).toHaveLength(0);
    expect(f.registry.evaluate(principal({ issuedAt: NOW_SEC - 600 }), 'w-alice', f.now)).toEqual({ kind: 'ok' });
  });

  async function expectRejected(body: string, err: string, headers?: Record<string, string>, status = 400): Promise<void> {
    const res = await post(f.receiver.url, body, headers);
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ err });
    expect(typeof (res.json as { description: unknown }).description).toBe('string');
  }

  it('rejects a SET signed by an untrusted key with a trusted kid', async () => {
    await expectRejected(await mintSet({ key: f.otherKey, iatSec: NOW_SEC, subId: ALICE, events: REVOKE_ALICE }), 'invalid_key');
  });

  it('rejects a SET from the wrong issuer', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC, issuer: 'https://evil.example', subId: ALICE, events: REVOKE_ALICE }), 'invalid_issuer');
  });

  it('rejects a SET for another audience', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC, audience: 'https://other.example', subId: ALICE, events: REVOKE_ALICE }), 'invalid_audience');
  });

  it('rejects an access token posing as a SET (wrong typ)', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC, typ: 'at+jwt', subId: ALICE, events: REVOKE_ALICE }), 'invalid_request');
  });

  it('rejects a SET with top-level sub', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC, subId: ALICE, events: REVOKE_ALICE, extra: { sub: 'alice' } }), 'invalid_request');
  });

  it('rejects a SET with top-level exp', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC, subId: ALICE, events: REVOKE_ALICE, extra: { exp: NOW_SEC + 600 } }), 'invalid_request');
  });

  it('rejects a SET without events', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC, subId: ALICE, events: {} }), 'invalid_request');
  });

  it('rejects a stale SET older than the replay window', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC - 2 * 86_400, subId: ALICE, events: REVOKE_ALICE }), 'invalid_request');
  });

  it('rejects a SET issued in the future', async () => {
    await expectRejected(await mintSet({ key: f.key, iatSec: NOW_SEC + 3600, subId: ALICE, events: REVOKE_ALICE }), 'invalid_request');
  });

  it('rejects an unsigned SET (alg none)', async () => {
    const token = new UnsecuredJWT({ events: REVOKE_ALICE, sub_id: ALICE, jti: 'x1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW_SEC)
      .encode();
    await expectRejected(token, 'invalid_key');
  });

  it('rejects an HS256 SET signed with the public key as secret', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(f.key.jwk));
    const token = await new SignJWT({ events: REVOKE_ALICE, sub_id: ALICE })
      .setProtectedHeader({ alg: 'HS256', typ: 'secevent+jwt', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW_SEC)
      .setJti('hs-1')
      .sign(secret);
    await expectRejected(token, 'invalid_key');
  });

  it('rejects a tampered payload', async () => {
    const good = await mintSet({ key: f.key, iatSec: NOW_SEC, subId: { format: 'opaque', id: 'bob' }, events: REVOKE_ALICE });
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p ?? ''))) as Record<string, unknown>;
    payload.sub_id = ALICE;
    await expectRejected(`${h}.${base64url.encode(JSON.stringify(payload))}.${s}`, 'invalid_key');
  });

  it('rejects a malformed body', async () => {
    await expectRejected('this is not a jwt', 'invalid_request');
    await expectRejected('', 'invalid_request');
  });

  it('rejects the wrong content type', async () => {
    const set = await mintSet({ key: f.key, iatSec: NOW_SEC, subId: ALICE, events: REVOKE_ALICE });
    await expectRejected(set, 'invalid_request', { 'content-type': 'application/json' });
    await expectRejected(set, 'invalid_request', { 'content-type': 'text/plain' });
  });

  it('rejects an oversized body before parsing it', async () => {
    await expectRejected('a'.repeat(f.config.maxBodyBytes + 1), 'invalid_request');
  });

  it('rejects a cross-site browser request (Origin header) with access_denied', async () => {
    const set = await mintSet({ key: f.key, iatSec: NOW_SEC, subId: ALICE, events: REVOKE_ALICE });
    await expectRejected(set, 'access_denied', { 'content-type': 'application/secevent+jwt', origin: 'https://evil.example' }, 403);
  });

  it('rejects methods other than POST', async () => {
    const res = await fetch(f.receiver.url, { method: 'GET' });
    expect(res.status).toBe(405);
  });

  it('answers 404 on other paths', async () => {
    const res = await fetch(f.receiver.url.replace('/events', '/other'), { method: 'POST', body: 'x' });
    expect(res.status).toBe(404);
  });
});

describe('SET receiver: replays', () => {
  it('a replayed jti is acknowledged (202) but has no effect', async () => {
    const f = await startFixture();
    try {
      const set = await mintSet({ key: f.key, iatSec: NOW_SEC, jti: 'once', subId: { format: 'opaque', id: 'bob' }, events: REVOKE_ALICE });
      expect((await post(f.receiver.url, set)).status).toBe(202);
      expect(f.registry.list()).toHaveLength(1);
      // bob signs in again; an attacker replays the captured SET later.
      f.now += 60_000;
      const replay = await post(f.receiver.url, set);
      expect(replay.status).toBe(202);
      expect(f.registry.list()).toHaveLength(1);
      expect(f.revoked).toHaveLength(1);
      expect(f.registry.evaluate(principal({ user: 'bob', issuedAt: NOW_SEC + 30 }), 'w', f.now)).toEqual({ kind: 'ok' });
      expect(f.audit.ofType('event.received').at(-1)).toMatchObject({ duplicate: true, eventId: 'once' });
      // The same jti from another issuer is a different SET; it still fails issuer checks here.
    } finally {
      await f.close();
    }
  });
});

describe('SET receiver: push authorization and key sources', () => {
  it('requires the configured bearer token (authentication_failed otherwise)', async () => {
    process.env.TEST_SET_PUSH_TOKEN = 'push-secret-123';
    const f = await startFixture({ authorization: { tokenEnv: 'TEST_SET_PUSH_TOKEN' } });
    try {
      const set = await mintSet({ key: f.key, iatSec: NOW_SEC, subId: ALICE, events: REVOKE_ALICE });
      for (const auth of [undefined, 'Bearer wrong', 'Basic cHVzaDpzZWNyZXQ=', 'Bearer push-secret-1234']) {
        const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt' };
        if (auth) headers.authorization = auth;
        const res = await post(f.receiver.url, set, headers);
        expect(res.status).toBe(401);
        expect(res.json).toMatchObject({ err: 'authentication_failed' });
      }
      expect(f.registry.list()).toHaveLength(0);
      const ok = await post(f.receiver.url, set, { 'content-type': 'application/secevent+jwt', authorization: 'Bearer push-secret-123' });
      expect(ok.status).toBe(202);
      expect(f.registry.list()).toHaveLength(1);
    } finally {
      delete process.env.TEST_SET_PUSH_TOKEN;
      await f.close();
    }
  });

  it('verifies with a JWKS file and with a PEM key, mounted as a plain request handler', async () => {
    const key = await makeKey('file-key');
    const dir = mkdtempSync(join(tmpdir(), 'warden-events-'));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [key.jwk] }));
    const pem = createPublicKey({ key: key.jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    writeFileSync(join(dir, 'transmitter.pem'), pem);
    for (const keys of [{ jwksFile: join(dir, 'jwks.json') }, { publicKeyPemFile: join(dir, 'transmitter.pem') }]) {
      const config = EventsConfigSchema.parse({ transmitter: { issuer: ISSUER, audience: [AUDIENCE, 'urn:other'], keys, algorithms: ['ES256'] } });
      const audit = new MemoryAudit();
      const store = new MemoryStateStore();
      const clock = () => NOW_SEC * 1000;
      const registry = new SubjectRegistry({ settings: config, store, audit, clock });
      const handler = createSetReceiver({ config, registry, audit, clock, store });
      const server = createServer(handler);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/anything`;
      try {
        const set = await mintSet({ key, iatSec: NOW_SEC, subId: ALICE, events: REVOKE_ALICE });
        expect((await post(url, set)).status).toBe(202);
        expect(registry.evaluate(principal({ issuedAt: NOW_SEC - 1 }), 's', clock()).kind).toBe('revoked');
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    }
  });

  it('fails at start-up naming the key when the JWKS file is missing', () => {
    const config = EventsConfigSchema.parse({ transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksFile: '/nonexistent/jwks.json' } } });
    const store = new MemoryStateStore();
    const audit = new MemoryAudit();
    const registry = new SubjectRegistry({ store, audit, clock: () => 0 });
    expect(() => createSetReceiver({ config, registry, audit, clock: () => 0, store, configFile: 'warden.yaml' })).toThrow(
      expect.objectContaining({ code: 'config_invalid', keyPath: 'events.transmitter.keys.jwksFile' }),
    );
  });
});
