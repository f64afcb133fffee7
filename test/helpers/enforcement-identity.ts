import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';

export const TEST_ISSUER = 'https://idp.e2e.test';
export const TEST_RESOURCE = 'https://warden.e2e.test/mcp';

/** A local identity provider for one test: a signing key, its JWKS file, and a token minter. */
export interface TestIdp {
  readonly key: SigningKey;
  readonly jwksFile: string;
  /** A token for `user`, with `actor` as the agent acting now (RFC 8693 `act`). */
  mint(user: string, actor?: string): Promise<string>;
  /** The `identity:` config section trusting this issuer (plus any extra keys, e.g. `token`). */
  section(extra?: Record<string, unknown>): Record<string, unknown>;
}

/** Creates the key and writes `jwks.json` into `dir` (the warden config folder). */
export async function createTestIdp(dir: string): Promise<TestIdp> {
  const key = await generateSigningKey({ kid: 'e2e-enforcement' });
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(key.jwks));
  return {
    key,
    jwksFile,
    mint: (user, actor) => mintToken({ key, issuer: TEST_ISSUER, audience: TEST_RESOURCE, subject: user, ...(actor ? { actor } : {}), ttlSeconds: 600 }),
    section: (extra = {}) => ({
      resource: TEST_RESOURCE,
      issuers: [{ issuer: TEST_ISSUER, audience: TEST_RESOURCE, jwksFile }],
      ...extra,
    }),
  };
}

/** Writes a secret (a random approver token unless given) to `dir/name` with mode 0600. */
export function writeSecret(dir: string, name: string, value = randomBytes(32).toString('base64url')): { file: string; value: string } {
  const file = join(dir, name);
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { file, value };
}
