import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { AuditEvent, AuditSink } from '../../src/audit/audit-sink.js';
import type { Principal } from '../../src/core/principal.js';
import { makePrincipal } from '../helpers/principal-builder.js';

export const ISSUER = 'https://idp.test.example';
export const AUDIENCE = 'https://warden.test.example/events';
export const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';

export interface TestKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function makeKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, jwk };
}

export interface MintOptions {
  readonly key: TestKey;
  readonly iatSec: number;
  readonly jti?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly typ?: string;
  readonly subId?: unknown;
  readonly events: Record<string, Record<string, unknown>>;
  readonly extra?: Record<string, unknown>;
}

let counter = 0;

/** Mints a signed SET like an SSF transmitter would. */
export async function mintSet(o: MintOptions): Promise<string> {
  counter += 1;
  const payload: Record<string, unknown> = { events: o.events, ...o.extra };
  if (o.subId !== undefined) payload.sub_id = o.subId;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: o.key.jwk.kid, typ: o.typ ?? 'secevent+jwt' })
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? AUDIENCE)
    .setIssuedAt(o.iatSec)
    .setJti(o.jti ?? `set-${counter}-${Math.random().toString(36).slice(2)}`)
    .sign(o.key.privateKey);
}

/** A transmitter JWKS served over real HTTP on loopback. */
export async function serveJwks(keys: readonly JWK[]): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return { url, server, close: () => new Promise((r) => server.close(() => r())) };
}

/** In-memory AuditSink that keeps every record for assertions. */
export class MemoryAudit implements AuditSink {
  readonly records: AuditEvent[] = [];
  record(event: AuditEvent): void {
    this.records.push(event);
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
  ofType(type: AuditEvent['type']): AuditEvent[] {
    return this.records.filter((r) => r.type === type);
  }
}

export function principal(overrides: Partial<Principal> = {}): Principal {
  return makePrincipal({
    issuer: ISSUER,
    user: 'alice',
    actor: 'agent-7',
    clientId: 'client-1',
    scopes: ['tools'],
    sessionId: 'idp-sess-1',
    issuedAt: 1_000,
    expiresAt: 2_000,
    claims: { email: 'Alice@Example.com' },
    ...overrides,
  });
}

/** POSTs a body to the receiver. */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/secevent+jwt' },
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}
