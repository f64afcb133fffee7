import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type SigningKey } from '../../src/identity/dev-tokens.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { AUD, NOW, NOW_MS, claims, identityConfig, token } from './token-forge.js';

/**
 * Two trusted issuers: a human IdP and a stricter agent issuer with its own keys, audience, typ
 * and lifetime. A token is judged only by the rules and keys of the issuer it names.
 */
const HUMANS = 'https://idp.test';
const AGENTS = 'https://agents.test';
let humanKey: SigningKey;
let agentKey: SigningKey;
let auth: JwtAuthenticator;

beforeAll(async () => {
  humanKey = await generateSigningKey({ alg: 'ES256', kid: 'shared-kid' });
  agentKey = await generateSigningKey({ alg: 'ES256', kid: 'shared-kid' });
  auth = await createJwtAuthenticator(
    identityConfig({
      issuers: [
        { issuer: HUMANS, audience: AUD, publicKeys: [{ jwk: humanKey.publicJwk }], algorithms: ['ES256'] },
        { issuer: AGENTS, audience: 'warden-agents', publicKeys: [{ jwk: agentKey.publicJwk }], algorithms: ['ES256'], typ: 'at+jwt', maxTokenLifetime: '5m' },
      ],
    }),
    { clock: () => NOW_MS },
  );
});

const reason = async (t: string) => {
  const r = await auth.verifyToken(t);
  return r.ok ? 'ok' : r.reason;
};

describe('several trusted issuers', () => {
  it('accepts each issuer\'s own tokens under its own rules', async () => {
    expect(await reason(token(humanKey, claims({ iss: HUMANS })))).toBe('ok');
    expect(await reason(token(agentKey, claims({ iss: AGENTS, aud: 'warden-agents', exp: NOW + 300 }), { typ: 'at+jwt' }))).toBe('ok');
  });

  it('rejects a token naming one issuer signed with the other issuer\'s key (same kid)', async () => {
    expect(await reason(token(humanKey, claims({ iss: AGENTS, aud: 'warden-agents', exp: NOW + 300 }), { typ: 'at+jwt' }))).toBe('signature_invalid');
    expect(await reason(token(agentKey, claims({ iss: HUMANS })))).toBe('signature_invalid');
  });

  it('rejects a token carrying the other issuer\'s audience, and one escaping the stricter issuer\'s rules', async () => {
    expect(await reason(token(agentKey, claims({ iss: AGENTS, exp: NOW + 300 }), { typ: 'at+jwt' }))).toBe('audience_mismatch');
    expect(await reason(token(humanKey, claims({ iss: HUMANS, aud: 'warden-agents' })))).toBe('audience_mismatch');
    // The agent issuer requires typ and a short lifetime; the human issuer's laxer rules never apply to it.
    expect(await reason(token(agentKey, claims({ iss: AGENTS, aud: 'warden-agents', exp: NOW + 300 })))).toBe('typ_mismatch');
    expect(await reason(token(agentKey, claims({ iss: AGENTS, aud: 'warden-agents', exp: NOW + 3600 }), { typ: 'at+jwt' }))).toBe('lifetime_exceeded');
  });

  it('keeps the issuer in the principal: the same sub from two issuers is two users', async () => {
    const a = await auth.verifyToken(token(humanKey, claims({ iss: HUMANS })));
    const b = await auth.verifyToken(token(agentKey, claims({ iss: AGENTS, aud: 'warden-agents', exp: NOW + 300 }), { typ: 'at+jwt' }));
    expect(a.ok && b.ok && [a.principal.issuer, b.principal.issuer]).toEqual([HUMANS, AGENTS]);
  });
});
