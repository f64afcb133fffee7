import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { generateSigningKey, type SigningKey } from '../../src/identity/dev-tokens.js';
import { E2E_ISSUER } from './identity-env.js';
import { REPO_ROOT } from './paths.js';

/** Policy of the event tests: send_email high but allowed, delete_record needs approval, a claim blocks. */
export const EVENTS_POLICY = resolve(REPO_ROOT, 'test/fixtures/e2e-events/policy.yaml');

/** The receiver's audience: what the IdP's SETs name as `aud`. */
export const SET_AUDIENCE = 'https://warden.e2e.test/events';
export const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';

export interface SetSpec {
  /** `{ 'session-revoked': {...} }`: CAEP event names (prefixed here) to event bodies. */
  readonly events: Record<string, Record<string, unknown>>;
  readonly subId?: unknown;
  readonly iatMs?: number;
  readonly jti?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly typ?: string;
  readonly key?: SigningKey;
  /** Extra top-level claims (negative tests: `sub`, `exp`). */
  readonly extra?: Record<string, unknown>;
}

export interface Transmitter {
  readonly key: SigningKey;
  readonly jwksFile: string;
  /** The `events:` config section (listen port 0) with extra keys merged in. */
  section(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Signs a SET as the IdP's SSF transmitter would. */
  mint(spec: SetSpec): Promise<string>;
}

/** A transmitter signing key, its JWKS file in `dir`, and SET minting. */
export async function transmitter(dir: string): Promise<Transmitter> {
  const key = await generateSigningKey({ kid: 'ssf-1' });
  const jwksFile = join(dir, 'ssf-jwks.json');
  writeFileSync(jwksFile, JSON.stringify(key.jwks));
  return {
    key, jwksFile,
    section: (extra = {}) => ({
      listen: { host: '127.0.0.1', port: 0, path: '/events' },
      transmitter: { issuer: E2E_ISSUER, audience: SET_AUDIENCE, keys: { jwksFile }, algorithms: ['ES256'] },
      ...extra,
    }),
    mint: (spec) => {
      const events: Record<string, Record<string, unknown>> = {};
      for (const [name, body] of Object.entries(spec.events)) events[name.startsWith('https://') ? name : CAEP + name] = body;
      const payload: Record<string, unknown> = { events, ...(spec.subId !== undefined ? { sub_id: spec.subId } : {}), ...spec.extra };
      const signer = spec.key ?? key;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: spec.typ ?? 'secevent+jwt' })
        .setIssuer(spec.issuer ?? E2E_ISSUER)
        .setAudience(spec.audience ?? SET_AUDIENCE)
        .setIssuedAt(Math.floor((spec.iatMs ?? Date.now()) / 1000))
        .setJti(spec.jti ?? randomUUID())
        .sign(signer.privateKey);
    },
  };
}

/** The `iss_sub` subject of a user of the e2e IdP. */
export const userSubject = (user: string) => ({ format: 'iss_sub', iss: E2E_ISSUER, sub: user });

/** Pushes one SET to the receiver (RFC 8935). */
export async function pushSet(url: string, body: string, contentType = 'application/secevent+jwt'): Promise<{ status: number; json: { err?: string; description?: string } | undefined }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as { err?: string }) : undefined };
}

/** CAEP `event_timestamp` (seconds) for an event that happened at `ms`. */
export const at = (ms: number) => ({ event_timestamp: Math.floor(ms / 1000) });
