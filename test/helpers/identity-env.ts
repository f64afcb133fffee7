import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';
import { upstreams } from './paths.js';
import { tempDir } from './warden-process.js';

/** The token issuer of the end-to-end tests (also the SET transmitter: one IdP sends both). */
export const E2E_ISSUER = 'https://idp.e2e.test';
/** warden's resource URL: what access tokens name as `aud`. */
export const E2E_RESOURCE = 'https://warden.e2e.test/mcp';

export interface TokenSpec {
  readonly user: string;
  readonly actor?: string;
  readonly chain?: readonly string[];
  readonly scope?: string;
  readonly ttlSeconds?: number;
  /** "Now" for iat (epoch ms); tokens minted "before" an event use a past time. */
  readonly nowMs?: number;
  readonly claims?: Record<string, unknown>;
  readonly audience?: string;
  readonly key?: SigningKey;
  readonly sessionId?: string;
}

export interface IdentityEnv {
  /** The test's folder: config, JWKS, token file, audit log, admin token, pins all live here. */
  readonly dir: string;
  readonly key: SigningKey;
  readonly jwksFile: string;
  readonly auditFile: string;
  readonly callLog: string;
  readonly adminTokenFile: string;
  readonly pinsFile: string;
  /** The `identity:` section (JWKS file issuer), with extra keys merged in. */
  identity(extra?: Record<string, unknown>): Record<string, unknown>;
  /** A full warden config in front of the ACME server (ACME_CALL_LOG on), every path in `dir`. */
  config(overrides?: Record<string, unknown>, acmeEnv?: Record<string, string>): Record<string, unknown>;
  /** Signs an access token with the trusted key (or `spec.key`). Never hard-coded. */
  mint(spec: TokenSpec): Promise<string>;
}

/** A fresh key pair, its JWKS file and the paths of one end-to-end test. */
export async function identityEnv(prefix = 'warden-e2e-id-'): Promise<IdentityEnv> {
  const dir = tempDir(prefix);
  const key = await generateSigningKey({ kid: 'e2e-1' });
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(key.jwks));
  const env: IdentityEnv = {
    dir, key, jwksFile,
    auditFile: join(dir, 'audit.jsonl'),
    callLog: join(dir, 'acme-calls.jsonl'),
    adminTokenFile: join(dir, '.warden', 'admin-token'),
    pinsFile: join(dir, '.warden', 'pins.json'),
    identity: (extra = {}) => ({
      resource: E2E_RESOURCE,
      issuers: [{ issuer: E2E_ISSUER, audience: E2E_RESOURCE, jwksFile, algorithms: ['ES256'] }],
      ...extra,
    }),
    config: (overrides = {}, acmeEnv = {}) => ({
      upstreams: { acme: { ...upstreams.acme(), env: { ACME_CALL_LOG: env.callLog, ...acmeEnv } } },
      identity: env.identity(),
      logging: { level: 'info' },
      audit: { file: env.auditFile },
      control: { port: 0, adminTokenFile: env.adminTokenFile },
      pins: { file: env.pinsFile, onNew: 'allow' },
      ...overrides,
    }),
    mint: (spec) => mintToken({
      key: spec.key ?? key,
      issuer: E2E_ISSUER,
      audience: spec.audience ?? E2E_RESOURCE,
      subject: spec.user,
      ...(spec.actor !== undefined ? { actor: spec.actor } : {}),
      ...(spec.chain !== undefined ? { actorChain: spec.chain } : {}),
      ...(spec.scope !== undefined ? { scope: spec.scope } : {}),
      ...(spec.sessionId !== undefined ? { sessionId: spec.sessionId } : {}),
      ttlSeconds: spec.ttlSeconds ?? 900,
      ...(spec.nowMs !== undefined ? { nowMs: spec.nowMs } : {}),
      ...(spec.claims !== undefined ? { claims: spec.claims } : {}),
    }),
  };
  return env;
}

/** Every record of a JSON-lines audit log (empty when the file does not exist yet). */
export function readAudit(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Audit records of one type. */
export function auditOfType(file: string, type: string): Record<string, unknown>[] {
  return readAudit(file).filter((r) => r.type === type);
}

/** The tools the ACME server actually ran (its ACME_CALL_LOG), by name. */
export function upstreamCalls(callLog: string): string[] {
  if (!existsSync(callLog)) return [];
  return readFileSync(callLog, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { tool: string }).tool);
}

/** Polls until `check()` returns a value that is not undefined/false. */
export async function eventually<T>(check: () => T | undefined | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Replaces a stdio token file atomically, as a token refresher would (no half-written token is ever read). */
export function replaceTokenFile(tokenFile: string, token: string): void {
  const tmp = `${tokenFile}.tmp`;
  writeFileSync(tmp, `${token}\n`);
  renameSync(tmp, tokenFile);
}
