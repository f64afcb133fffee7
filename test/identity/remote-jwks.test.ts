import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSigningKey, type SigningKey } from '../../src/identity/dev-tokens.js';
import { importJWK } from 'jose';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import type { KeyResolver } from '../../src/identity/key-set.js';
import { TokenVerifier } from '../../src/identity/token-verifier.js';
import { AUD, ISS, NOW_MS, claims, identityConfig, token } from './token-forge.js';

/** A real JWKS endpoint on 127.0.0.1 that counts requests and can be stopped. */
interface KeyServer {
  url: string;
  requests: number;
  keys: SigningKey[];
  /** Raw body to serve instead of the key set. */
  body: string | undefined;
  status: number;
  stop(): Promise<void>;
}

async function startKeyServer(keys: SigningKey[]): Promise<KeyServer> {
  const state = { requests: 0, keys, body: undefined as string | undefined, status: 200 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    res.statusCode = state.status;
    res.setHeader('content-type', 'application/json');
    res.end(state.body ?? JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    get requests() { return state.requests; },
    set requests(v) { state.requests = v; },
    get keys() { return state.keys; },
    set keys(v) { state.keys = v; },
    get body() { return state.body; },
    set body(v) { state.body = v; },
    get status() { return state.status; },
    set status(v) { state.status = v; },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

let k1: SigningKey;
let server: KeyServer;
let now: number;
let fetchAttempts: number;
let auth: JwtAuthenticator;

beforeEach(async () => {
  k1 ??= await generateSigningKey({ alg: 'ES256', kid: 'k1' });
  server = await startKeyServer([k1]);
  now = NOW_MS;
  fetchAttempts = 0;
  const countingFetch: typeof fetch = (input, init) => {
    fetchAttempts++;
    return fetch(input, init);
  };
  auth = await createJwtAuthenticator(
    identityConfig({
      issuers: [{ issuer: ISS, audience: AUD, jwksUri: server.url, algorithms: ['ES256'], maxTokenLifetime: '2h',
        jwks: { timeout: 5, cooldown: 30, cacheMaxAge: 600 } }],
    }),
    { clock: () => now, fetch: countingFetch },
  );
});

afterEach(async () => {
  await auth.close();
  await server.stop();
});

/** A distinct valid token each time (a new jti defeats the verification cache). */
let serial = 0;
const fresh = (key: SigningKey, header: Record<string, unknown> = {}) =>
  token(key, claims({ jti: `t${serial++}`, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 3600 }), header);

const reasonOf = async (t: string) => {
  const o = await auth.verifyToken(t);
  return o.ok ? 'ok' : o.reason;
};

describe('remote JWKS over real HTTP', () => {
  it('fetches once and verifies', async () => {
    expect(await reasonOf(fresh(k1))).toBe('ok');
    expect(await reasonOf(fresh(k1))).toBe('ok');
    expect(server.requests).toBe(1);
  });

  it('keeps working with a fresh cache while the key server is down', async () => {
    expect(await reasonOf(fresh(k1))).toBe('ok');
    await server.stop();
    now += 9 * 60_000; // still inside the 10 min cache
    expect(await reasonOf(fresh(k1))).toBe('ok');
  });

  it('fails closed with a stale cache while the key server is down', async () => {
    expect(await reasonOf(fresh(k1))).toBe('ok');
    await server.stop();
    now += 11 * 60_000; // past the 10 min cache
    expect(await reasonOf(fresh(k1))).toBe('keys_unavailable');
    // Failed fetches are rate-limited too: a burst does not hammer the down server.
    const before = fetchAttempts;
    for (let i = 0; i < 50; i++) expect(await reasonOf(fresh(k1))).toBe('keys_unavailable');
    expect(fetchAttempts).toBe(before);
  });

  it('refetches a stale cache when the server is up', async () => {
    expect(await reasonOf(fresh(k1))).toBe('ok');
    now += 11 * 60_000;
    expect(await reasonOf(fresh(k1))).toBe('ok');
    expect(server.requests).toBe(2);
  });

  it('turns a thousand unknown kids into at most one fetch per cooldown', async () => {
    expect(await reasonOf(fresh(k1))).toBe('ok');
    now += 31_000; // cooldown since the first fetch has passed
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => reasonOf(fresh(k1, { kid: `attacker-${i}` }))));
    expect(new Set(results)).toEqual(new Set(['kid_unknown']));
    expect(server.requests).toBe(2);
    now += 10_000; // still inside the cooldown of that refetch
    for (let i = 0; i < 100; i++) expect(await reasonOf(fresh(k1, { kid: `more-${i}` }))).toBe('kid_unknown');
    expect(server.requests).toBe(2);
    now += 30_000; // next cooldown window: one more fetch allowed
    for (let i = 0; i < 100; i++) expect(await reasonOf(fresh(k1, { kid: `later-${i}` }))).toBe('kid_unknown');
    expect(server.requests).toBe(3);
  });

  it('picks up a rotated key (new kid) after the cooldown', async () => {
    const k2 = await generateSigningKey({ alg: 'ES256', kid: 'k2' });
    expect(await reasonOf(fresh(k1))).toBe('ok');
    server.keys = [k1, k2];
    now += 31_000;
    // A burst of tokens with the new kid: one fetch, and every call waits for it.
    const burst = await Promise.all(Array.from({ length: 20 }, () => reasonOf(fresh(k2))));
    expect(new Set(burst)).toEqual(new Set(['ok']));
    expect(server.requests).toBe(2);
    // The old key is retired: once the cache is refreshed its tokens are unknown.
    server.keys = [k2];
    now += 11 * 60_000;
    expect(await reasonOf(fresh(k1))).toBe('kid_unknown');
  });

  it('fails closed on a JWKS response that is not a key set', async () => {
    server.body = '{"keys": "nope"}';
    expect(await reasonOf(fresh(k1))).toBe('keys_unavailable');
  });

  it('fails closed on a non-200 JWKS response', async () => {
    server.status = 500;
    expect(await reasonOf(fresh(k1))).toBe('keys_unavailable');
  });
});

describe('remote JWKS fetch timeout as written in the config', () => {
  it('verifies with a millisecond timeout whose seconds do not convert back exactly (2300ms: 2.3 s × 1000 is not an integer)', async () => {
    const a = await createJwtAuthenticator(
      identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksUri: server.url, algorithms: ['ES256'], maxTokenLifetime: '2h', jwks: { timeout: '2300ms' } }] }),
      { clock: () => now },
    );
    const o = await a.verifyToken(fresh(k1));
    await a.close();
    expect(o.ok ? 'ok' : o.reason).toBe('ok');
  });
});

describe('remote JWKS fetch timeout of zero', () => {
  it('is a configuration error naming the key, not a warden that refuses every token', () => {
    expect(() => identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksUri: 'https://idp.test/jwks', jwks: { timeout: 0 } }] })).toThrow(/timeout/);
  });
});

describe('remote JWKS and the verification cache', () => {
  it('stops accepting an already-verified token once its key is retired from the JWKS (no cache past the keys)', async () => {
    const k2 = await generateSigningKey({ alg: 'ES256', kid: 'k2' });
    const t = fresh(k1); // valid for an hour
    expect(await reasonOf(t)).toBe('ok');
    expect(await reasonOf(t)).toBe('ok'); // now served from the verification cache
    // The IdP retires k1 (compromised): tokens it signed must stop working once warden's keys refresh.
    server.keys = [k2];
    now += 11 * 60_000; // past cacheMaxAge: warden's key set is stale and refetched
    expect(await reasonOf(t)).toBe('kid_unknown');
  });

  it('stops accepting an already-verified token as soon as a refetch shows its key retired (rotation after a compromise)', async () => {
    const k2 = await generateSigningKey({ alg: 'ES256', kid: 'k2' });
    const forged = fresh(k1); // say minted with the compromised k1
    expect(await reasonOf(forged)).toBe('ok'); // verified and cached
    // The IdP rotates: k1 out, k2 in. The first token signed with k2 makes warden refetch now.
    server.keys = [k2];
    now += 31_000; // past the cooldown, well inside cacheMaxAge
    expect(await reasonOf(fresh(k2))).toBe('ok');
    expect(server.requests).toBe(2);
    // warden now holds a key set without k1: the cached verification must not outlive it.
    expect(await reasonOf(forged)).toBe('kid_unknown');
  });

  it('does not cache a verification made with keys of a set refetched while it ran', async () => {
    const key = await importJWK(k1.publicJwk, 'ES256');
    let generation = 1;
    // The lookup hands out keys of fetch 1; by the time the signature is checked, fetch 2 is in force.
    const keys: KeyResolver = {
      resolve: async () => {
        generation = 2;
        return { ok: true, keys: [key], freshUntilMs: now + 600_000, generation: 1 };
      },
      get generation() {
        return generation;
      },
    };
    const cfg = identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksUri: server.url, algorithms: ['ES256'] }] }).issuers[0]!;
    const verifier = new TokenVerifier(new Map([[ISS, { config: cfg, keys }]]), [], () => now);
    const outcome = await verifier.verify(fresh(k1));
    expect(outcome).toMatchObject({ ok: true, cacheUntilMs: now });
  });

  it('keeps cached verifications of keys still published across a refetch', async () => {
    const k2 = await generateSigningKey({ alg: 'ES256', kid: 'k2' });
    const t = fresh(k1);
    expect(await reasonOf(t)).toBe('ok');
    server.keys = [k1, k2];
    now += 31_000;
    expect(await reasonOf(fresh(k2))).toBe('ok');
    expect(await reasonOf(t)).toBe('ok');
  });

  it('rejects an already-verified token too while the key server is down and the keys are stale', async () => {
    const t = fresh(k1);
    expect(await reasonOf(t)).toBe('ok');
    await server.stop();
    now += 11 * 60_000;
    expect(await reasonOf(t)).toBe('keys_unavailable');
  });
});
