import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';

export const IDP = 'https://idp.e2e-audit.test';
export const RESOURCE = 'https://warden.e2e-audit.test/mcp';
export const SET_AUDIENCE = 'https://warden.e2e-audit.test/events';
export const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';

/** Token and SET keys for one warden, with the JWKS files its identity and events sections read. */
export interface E2eKeys {
  readonly tokenKey: SigningKey;
  readonly setKey: { privateKey: CryptoKey; jwk: JWK };
  readonly identity: Record<string, unknown>;
  readonly events: Record<string, unknown>;
}

export async function e2eKeys(dir: string): Promise<E2eKeys> {
  const tokenKey = await generateSigningKey({ kid: 'e2e-token-1' });
  const pair = await generateKeyPair('ES256', { extractable: true });
  const setJwk = { ...(await exportJWK(pair.publicKey)), kid: 'e2e-set-1', alg: 'ES256', use: 'sig' };
  writeFileSync(join(dir, 'token-jwks.json'), JSON.stringify(tokenKey.jwks));
  writeFileSync(join(dir, 'set-jwks.json'), JSON.stringify({ keys: [setJwk] }));
  return {
    tokenKey,
    setKey: { privateKey: pair.privateKey, jwk: setJwk },
    identity: { resource: RESOURCE, issuers: [{ issuer: IDP, audience: RESOURCE, jwksFile: join(dir, 'token-jwks.json') }] },
    events: {
      listen: { host: '127.0.0.1', port: 0, path: '/events' },
      transmitter: { issuer: IDP, audience: SET_AUDIENCE, keys: { jwksFile: join(dir, 'set-jwks.json') }, algorithms: ['ES256'] },
    },
  };
}

/** A user token with an actor chain (RFC 8693 `act`), minted with the dev tooling. */
export function userToken(keys: E2eKeys, user: string, actor: string, prior: string[] = []): Promise<string> {
  return mintToken({ key: keys.tokenKey, issuer: IDP, audience: RESOURCE, subject: user, actor, actorChain: prior, scope: 'tools:call', ttlSeconds: 600 });
}

let jtiCounter = 0;

/** A signed Security Event Token about `user`, as an SSF transmitter would push it. */
export function mintSet(keys: E2eKeys, user: string, eventType: string, event: Record<string, unknown>): Promise<string> {
  jtiCounter += 1;
  return new SignJWT({ sub_id: { format: 'iss_sub', iss: IDP, sub: user }, events: { [`${CAEP}${eventType}`]: { event_timestamp: Math.floor(Date.now() / 1000), ...event } } })
    .setProtectedHeader({ alg: 'ES256', kid: keys.setKey.jwk.kid, typ: 'secevent+jwt' })
    .setIssuer(IDP)
    .setAudience(SET_AUDIENCE)
    .setIssuedAt()
    .setJti(`e2e-set-${process.pid}-${jtiCounter}`)
    .sign(keys.setKey.privateKey);
}

/** POSTs a SET to the receiver; returns the HTTP status. */
export async function pushSet(url: string, set: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt' }, body: set });
  await res.text();
  return res.status;
}
