import { beforeAll, describe, expect, it } from 'vitest';
import { exportSPKI, importJWK, type CryptoKey } from 'jose';
import type { AuthResult } from '../../src/core/authenticator.js';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import type { IdentityReason } from '../../src/identity/reason-codes.js';
import { AUD, ISS, NOW, NOW_MS, b64url, claims, identityConfig, signHmac, signRaw, token } from './token-forge.js';

interface Keys {
  es: SigningKey;
  ed: SigningKey;
  rs: SigningKey;
  /** Same kid as `es` but never published: an attacker's key. */
  rogue: SigningKey;
}

let keys: Keys;
let auth: JwtAuthenticator;
let typAuth: JwtAuthenticator;
let publicPem: string;

beforeAll(async () => {
  const es = await generateSigningKey({ alg: 'ES256', kid: 'k1' });
  keys = {
    es,
    ed: await generateSigningKey({ alg: 'EdDSA', kid: 'ed1' }),
    rs: await generateSigningKey({ alg: 'RS256', kid: 'rs1' }),
    rogue: await generateSigningKey({ alg: 'ES256', kid: 'k1' }),
  };
  publicPem = await exportSPKI((await importJWK(es.publicJwk, 'ES256')) as CryptoKey);
  const issuer = {
    issuer: ISS,
    audience: AUD,
    publicKeys: [{ jwk: es.publicJwk }, { jwk: keys.ed.publicJwk }, { jwk: keys.rs.publicJwk }],
    algorithms: ['ES256', 'EdDSA', 'RS256'] as const,
    clockTolerance: 30,
    maxTokenLifetime: '1h',
    requiredClaims: ['jti'],
  };
  const clock = () => NOW_MS;
  auth = await createJwtAuthenticator(identityConfig({ issuers: [{ ...issuer, algorithms: [...issuer.algorithms] }] }), { clock });
  typAuth = await createJwtAuthenticator(
    identityConfig({ issuers: [{ ...issuer, algorithms: [...issuer.algorithms], typ: 'at+jwt', maxTokenAge: '1h' }] }),
    { clock },
  );
});

const c = (o: Record<string, unknown> = {}) => claims({ jti: 'j1', ...o });
const swapSig = (t: string, f: (sig: string) => string) => {
  const [h, p, s] = t.split('.') as [string, string, string];
  return `${h}.${p}.${f(s)}`;
};
const flipChar = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
const noneToken = (alg: string) => `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(c()))}.`;

type Case = { name: string; reason: IdentityReason; make: () => string | Promise<string>; verifier?: () => JwtAuthenticator };

const CASES: Case[] = [
  { name: 'rejects alg none', reason: 'alg_none', make: () => noneToken('none') },
  { name: 'rejects alg None', reason: 'alg_none', make: () => noneToken('None') },
  { name: 'rejects alg NONE', reason: 'alg_none', make: () => noneToken('NONE') },
  { name: 'rejects alg nOnE', reason: 'alg_none', make: () => noneToken('nOnE') },
  { name: 'rejects alg none with a signature appended', reason: 'alg_none', make: () => `${noneToken('none')}c2ln` },
  { name: 'rejects HS256 signed with the public key (alg confusion)', reason: 'alg_symmetric_not_allowed', make: () => signHmac({ alg: 'HS256', kid: 'k1' }, c(), publicPem) },
  { name: 'rejects an untrusted key under a trusted kid', reason: 'signature_invalid', make: () => token(keys.rogue, c()) },
  { name: 'rejects an unknown kid', reason: 'kid_unknown', make: () => token(keys.es, c(), { kid: 'nope' }) },
  { name: 'rejects a kid naming a key of another type', reason: 'kid_unknown', make: () => token(keys.es, c(), { kid: 'rs1' }) },
  { name: 'rejects an embedded jwk header', reason: 'header_embedded_key', make: () => token(keys.rogue, c(), { jwk: keys.rogue.publicJwk }) },
  { name: 'rejects a jku header', reason: 'header_embedded_key', make: () => token(keys.rogue, c(), { jku: 'https://evil.test/jwks' }) },
  { name: 'rejects an x5u header', reason: 'header_embedded_key', make: () => token(keys.rogue, c(), { x5u: 'https://evil.test/cert' }) },
  { name: 'rejects an x5c header', reason: 'header_embedded_key', make: () => token(keys.rogue, c(), { x5c: ['MIIB'] }) },
  { name: 'rejects an expired token', reason: 'token_expired', make: () => token(keys.es, c({ iat: NOW - 900, exp: NOW - 300 })) },
  { name: 'rejects expiry exactly at the tolerance boundary', reason: 'token_expired', make: () => token(keys.es, c({ iat: NOW - 600, exp: NOW - 30 })) },
  { name: 'rejects nbf in the future beyond tolerance', reason: 'token_not_yet_valid', make: () => token(keys.es, c({ nbf: NOW + 31 })) },
  { name: 'rejects iat in the future beyond tolerance', reason: 'iat_in_future', make: () => token(keys.es, c({ iat: NOW + 31, exp: NOW + 600 })) },
  { name: 'rejects a token without exp', reason: 'exp_missing', make: () => token(keys.es, c({ exp: undefined })) },
  { name: 'rejects a string exp', reason: 'exp_invalid', make: () => token(keys.es, c({ exp: String(NOW + 600) })) },
  { name: 'rejects a string nbf', reason: 'claim_invalid', make: () => token(keys.es, c({ nbf: 'yesterday' })) },
  { name: 'rejects a lifetime over the maximum', reason: 'lifetime_exceeded', make: () => token(keys.es, c({ exp: NOW + 7200 })) },
  { name: 'rejects a wrong aud', reason: 'audience_mismatch', make: () => token(keys.es, c({ aud: 'https://other.test/mcp' })) },
  { name: 'rejects a missing aud', reason: 'audience_missing', make: () => token(keys.es, c({ aud: undefined })) },
  { name: 'rejects a case-changed aud', reason: 'audience_mismatch', make: () => token(keys.es, c({ aud: AUD.toUpperCase() })) },
  { name: 'rejects an aud array without ours', reason: 'audience_mismatch', make: () => token(keys.es, c({ aud: ['https://a.test', 'https://b.test'] })) },
  { name: 'rejects a wrong iss (trailing slash)', reason: 'issuer_untrusted', make: () => token(keys.es, c({ iss: `${ISS}/` })) },
  { name: 'rejects an untrusted iss', reason: 'issuer_untrusted', make: () => token(keys.es, c({ iss: 'https://evil.test' })) },
  { name: 'rejects a missing iss', reason: 'issuer_missing', make: () => token(keys.es, c({ iss: undefined })) },
  { name: 'rejects a wrong typ where one is required', reason: 'typ_mismatch', make: () => token(keys.es, c()), verifier: () => typAuth },
  { name: 'rejects a missing typ where one is required', reason: 'typ_mismatch', make: () => token(keys.es, c(), { typ: undefined }), verifier: () => typAuth },
  { name: 'rejects a token older than the maximum age', reason: 'token_too_old', make: () => token(keys.es, c({ iat: NOW - 3700, exp: NOW - 3700 + 3600 + 120 }), { typ: 'at+jwt' }), verifier: () => typAuth },
  { name: 'rejects a security event token used as an access token', reason: 'typ_mismatch', make: () => token(keys.es, c(), { typ: 'secevent+jwt' }) },
  // Back-channel logout tokens and SETs may leave out `typ`; their `events` claim still says what they are.
  { name: 'rejects an untyped logout token used as an access token (events claim)', reason: 'not_access_token', make: () => token(keys.es, c({ sid: 's-1', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }), { typ: undefined }) },
  { name: 'rejects a logout token typed JWT used as an access token (events claim)', reason: 'not_access_token', make: () => token(keys.es, c({ events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })) },
  // An ID token is signed by the same keys; where warden's audience is an OIDC client's id it would pass as the user's access token.
  { name: 'rejects an OpenID Connect ID token (at_hash) used as an access token', reason: 'not_access_token', make: () => token(keys.es, c({ nonce: 'n-1', at_hash: 'x4Q8HQ_0ur2P2m8vH6xE6A', azp: AUD })) },
  { name: 'rejects an OpenID Connect ID token (c_hash) used as an access token', reason: 'not_access_token', make: () => token(keys.es, c({ c_hash: 'LDktKdoQak3Pk0cnXxCltA' })) },
  { name: 'rejects an unknown crit header', reason: 'crit_unsupported', make: () => token(keys.es, c(), { crit: ['urn:x'], 'urn:x': 1 }) },
  { name: 'rejects a stripped signature', reason: 'signature_missing', make: () => swapSig(token(keys.es, c()), () => '') },
  { name: 'rejects a truncated signature', reason: 'signature_invalid', make: () => swapSig(token(keys.es, c()), (s) => s.slice(0, -8)) },
  { name: 'rejects a flipped signature', reason: 'signature_invalid', make: () => swapSig(token(keys.es, c()), (s) => flipChar(s, 10)) },
  { name: 'rejects a flipped EdDSA signature', reason: 'signature_invalid', make: () => swapSig(token(keys.ed, c()), (s) => flipChar(s, 5)) },
  { name: 'rejects a flipped RS256 signature', reason: 'signature_invalid', make: () => swapSig(token(keys.rs, c()), (s) => flipChar(s, 20)) },
  {
    name: 'rejects a tampered payload',
    reason: 'signature_invalid',
    make: () => {
      const [h, , s] = token(keys.es, c()).split('.');
      return `${h}.${b64url(JSON.stringify(c({ sub: 'admin' })))}.${s}`;
    },
  },
  { name: 'rejects two segments', reason: 'token_segments', make: () => token(keys.es, c()).split('.').slice(0, 2).join('.') },
  { name: 'rejects four segments', reason: 'token_segments', make: () => `${token(keys.es, c())}.AAAA` },
  { name: 'rejects an empty payload segment', reason: 'token_segments', make: () => { const [h, , s] = token(keys.es, c()).split('.'); return `${h}..${s}`; } },
  { name: 'rejects standard base64 padding', reason: 'token_encoding', make: () => swapSig(token(keys.es, c()), (s) => `${s}==`) },
  { name: 'rejects standard base64 alphabet', reason: 'token_encoding', make: () => swapSig(token(keys.es, c()), (s) => s.replace(/-/g, '+').replace(/_/g, '/').replace(/^./, '+')) },
  { name: 'rejects leading whitespace', reason: 'token_whitespace', make: () => ` ${token(keys.es, c())}` },
  { name: 'rejects an embedded newline', reason: 'token_whitespace', make: () => token(keys.es, c()).replace('.', '.\n') },
  { name: 'rejects an oversized token', reason: 'token_too_large', make: () => token(keys.es, c({ pad: 'x'.repeat(9000) })) },
  { name: 'rejects an array payload', reason: 'payload_not_object', make: () => signRaw('{"alg":"ES256","kid":"k1"}', '[1,2]', keys.es) },
  { name: 'rejects a string payload', reason: 'payload_not_object', make: () => signRaw('{"alg":"ES256","kid":"k1"}', '"alice"', keys.es) },
  { name: 'rejects a null payload', reason: 'payload_not_object', make: () => signRaw('{"alg":"ES256","kid":"k1"}', 'null', keys.es) },
  { name: 'rejects a payload that is not JSON', reason: 'payload_invalid', make: () => signRaw('{"alg":"ES256","kid":"k1"}', '{sub:alice}', keys.es) },
  { name: 'rejects a header that is not JSON', reason: 'header_invalid', make: () => signRaw('{alg:ES256}', JSON.stringify(c()), keys.es) },
  { name: 'rejects a header without alg', reason: 'header_invalid', make: () => token(keys.es, c(), { alg: undefined }) },
  { name: 'rejects a disallowed algorithm (ES384)', reason: 'alg_not_allowed', make: () => token(keys.es, c(), { alg: 'ES384' }) },
  { name: 'rejects a disallowed algorithm (PS256)', reason: 'alg_not_allowed', make: () => token(keys.rs, c(), { alg: 'PS256' }) },
  { name: 'rejects duplicate claim names', reason: 'duplicate_claim', make: () => signRaw('{"alg":"ES256","kid":"k1"}', JSON.stringify(c()).replace('"sub":"alice"', '"sub":"alice","sub":"admin"'), keys.es) },
  { name: 'rejects duplicate claim names hidden by escapes', reason: 'duplicate_claim', make: () => signRaw('{"alg":"ES256","kid":"k1"}', JSON.stringify(c()).replace('"sub":"alice"', '"sub":"alice","s\\u0075b":"admin"'), keys.es) },
  { name: 'rejects duplicate names inside act', reason: 'duplicate_claim', make: () => signRaw('{"alg":"ES256","kid":"k1"}', JSON.stringify(c()).replace('"act":{"sub":"agent-7"}', '"act":{"sub":"agent-7","sub":"root"}'), keys.es) },
  { name: 'rejects duplicate header parameters', reason: 'duplicate_header_param', make: () => signRaw('{"alg":"ES256","kid":"k1","kid":"k2"}', JSON.stringify(c()), keys.es) },
  { name: 'rejects an actor not allowed by may_act', reason: 'actor_not_allowed', make: () => token(keys.es, c({ may_act: { sub: 'agent-7' }, act: { sub: 'agent-evil' } })) },
  { name: 'rejects an actor from the wrong issuer per may_act', reason: 'actor_not_allowed', make: () => token(keys.es, c({ may_act: { sub: 'agent-7', iss: 'https://agents.test' }, act: { sub: 'agent-7', iss: 'https://evil.test' } })) },
  { name: 'rejects a malformed may_act', reason: 'may_act_invalid', make: () => token(keys.es, c({ may_act: 'agent-7' })) },
  { name: 'rejects a malformed act', reason: 'actor_invalid', make: () => token(keys.es, c({ act: 'agent-7' })) },
  { name: 'rejects an act without sub', reason: 'actor_invalid', make: () => token(keys.es, c({ act: { client_id: 'x' } })) },
  // An act.iss that is not a string was read as "no issuer": the actor became the one without `iss`.
  { name: 'rejects an actor issuer that is not a string (it would pass as an actor without issuer)', reason: 'actor_invalid', make: () => token(keys.es, c({ act: { sub: 'agent-7', iss: 42 } })) },
  { name: 'rejects an empty actor issuer', reason: 'actor_invalid', make: () => token(keys.es, c({ act: { sub: 'agent-7', iss: '' } })) },
  { name: 'rejects a prior actor issuer that is not a string', reason: 'actor_invalid', make: () => token(keys.es, c({ act: { sub: 'agent-7', act: { sub: 'planner', iss: ['https://a'] } } })) },
  { name: 'rejects a delegation chain that is too deep', reason: 'actor_chain_too_deep', make: () => token(keys.es, c({ act: Array.from({ length: 10 }).reduce<unknown>((acc, _v, i) => ({ sub: `a${i}`, ...(acc ? { act: acc } : {}) }), undefined) })) },
  { name: 'rejects a token without sub', reason: 'sub_missing', make: () => token(keys.es, c({ sub: undefined })) },
  { name: 'rejects a token missing a configured required claim', reason: 'claim_missing', make: () => token(keys.es, c({ jti: undefined })) },
  { name: 'rejects invalid UTF-8 in the payload', reason: 'payload_invalid', make: () => { const [h, , s] = token(keys.es, c()).split('.'); return `${h}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${s}`; } },
];

describe('bad tokens', () => {
  it('has at least 40 named cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  for (const tc of CASES) {
    it(`${tc.name} (${tc.reason})`, async () => {
      const verifier = tc.verifier?.() ?? auth;
      const outcome = await verifier.verifyToken(await tc.make());
      expect(outcome.ok ? 'accepted' : outcome.reason).toBe(tc.reason);
    });
  }
});

describe('controls that must pass', () => {
  const accept = async (t: string, v: () => JwtAuthenticator = () => auth) => {
    const outcome = await v().verifyToken(t);
    expect(outcome.ok ? 'ok' : outcome.reason).toBe('ok');
    return outcome;
  };
  it('accepts a valid ES256 token', () => accept(token(keys.es, c())));
  it('accepts a valid EdDSA token', () => accept(token(keys.ed, c())));
  it('accepts a valid RS256 token', () => accept(token(keys.rs, c())));
  it('accepts a token minted by mintToken', async () => {
    await accept(await mintToken({ key: keys.es, issuer: ISS, audience: AUD, subject: 'alice', actor: 'agent-7', nowMs: NOW_MS, claims: { jti: 'j' } }));
  });
  it('accepts a token expired but inside the clock tolerance', () => accept(token(keys.es, c({ iat: NOW - 600, exp: NOW - 29 }))));
  it('accepts nbf inside the clock tolerance', () => accept(token(keys.es, c({ nbf: NOW + 30 }))));
  it('accepts iat inside the clock tolerance', () => accept(token(keys.es, c({ iat: NOW + 30 }))));
  it('accepts aud as an array containing ours', () => accept(token(keys.es, c({ aud: ['https://other.test', AUD] }))));
  it('accepts a lifetime exactly at the maximum', () => accept(token(keys.es, c({ exp: NOW + 3600 }))));
  it('accepts an actor allowed by may_act', () => accept(token(keys.es, c({ may_act: { sub: 'agent-7' } }))));
  it('keeps each actor\'s issuer with it: an actor is (iss, sub)', async () => {
    const outcome = await accept(token(keys.es, c({ act: { sub: 'agent-7', iss: 'https://agents.b', act: { sub: 'planner' } } })));
    expect(outcome.ok && outcome.principal).toMatchObject({ actor: 'agent-7', actorIssuer: 'https://agents.b', priorActors: ['planner'], priorActorIssuers: [null] });
  });
  it('accepts the required typ in either spelling', async () => {
    await accept(token(keys.es, c(), { typ: 'at+jwt' }), () => typAuth);
    await accept(token(keys.es, c(), { typ: 'application/AT+JWT' }), () => typAuth);
  });
});

describe('HTTP results for bad tokens', () => {
  it('returns 401 with invalid_token and the metadata URL', async () => {
    const r: AuthResult = await auth.authenticateHttp(`Bearer ${noneToken('none')}`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(401);
    expect(r.reason).toBe('alg_none');
    expect(r.wwwAuthenticate).toContain('resource_metadata="https://warden.test/.well-known/oauth-protected-resource/mcp"');
    expect(r.wwwAuthenticate).toContain('error="invalid_token"');
    expect(r.wwwAuthenticate).toContain('error_description="');
  });
  it('rejects a missing header without an error code (RFC 6750 3.1)', async () => {
    const r = await auth.authenticateHttp(undefined);
    expect(r.ok ? 'ok' : r.reason).toBe('token_missing');
    if (!r.ok) expect(r.wwwAuthenticate).not.toContain('error=');
  });
  it('rejects a non-Bearer scheme', async () => {
    const r = await auth.authenticateHttp(`Basic ${b64url('alice:pw')}`);
    expect(r.ok ? 'ok' : r.reason).toBe('auth_scheme_invalid');
  });
  it('rejects a double space after Bearer as whitespace', async () => {
    const r = await auth.authenticateHttp(`Bearer  ${token(keys.es, c())}`);
    expect(r.ok ? 'ok' : r.reason).toBe('token_whitespace');
  });
  it('accepts a case-insensitive scheme', async () => {
    const r = await auth.authenticateHttp(`bearer ${token(keys.es, c())}`);
    expect(r.ok).toBe(true);
  });
});
