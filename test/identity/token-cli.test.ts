import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/cli-command.js';
import { createJwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { identityConfig } from './token-forge.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const ISS = 'https://idp.example';
const AUD = 'https://warden.example/mcp';
let dir: string;

beforeAll(() => {
  // The CLI runs from dist/, which `npm test` builds before vitest starts. Never rebuild here:
  // tsc rewriting dist/ while other test files spawn binaries from it made them fail at random.
  if (!existsSync(MAIN)) throw new Error('build first: npx tsc -p tsconfig.json');
  dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
});

function warden(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function verify(jwksFile: string, token: string) {
  const auth = await createJwtAuthenticator(
    identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksFile, algorithms: ['ES256', 'EdDSA', 'RS256'] }] }),
    { baseDir: dir },
  );
  return auth.verifyToken(token);
}

describe('warden token', () => {
  it('keygen writes a 0600 private key and a public JWKS', () => {
    const r = warden(['token', 'keygen', '--alg', 'EdDSA', '--out', 'keys', '--kid', 'ed-1', '--json']);
    expect(r.code).toBe(EXIT.ok);
    const out = JSON.parse(r.stdout) as { kid: string; privateKey: string; jwks: string };
    expect(out.kid).toBe('ed-1');
    expect(statSync(out.privateKey).mode & 0o777).toBe(0o600);
    const jwks = JSON.parse(readFileSync(out.jwks, 'utf8')) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: 'ed-1', alg: 'EdDSA', crv: 'Ed25519' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('mint prints a token the verifier accepts, with the delegation chain', async () => {
    expect(warden(['token', 'keygen', '--out', 'keys', '--kid', 'es-1']).code).toBe(EXIT.ok);
    const r = warden([
      'token', 'mint', '--key', 'keys/es-1.private.jwk', '--iss', ISS, '--aud', AUD, '--sub', 'alice', '--act', 'agent-7',
      '--act-chain', 'planner,root', '--scope', 'tools:call files:read', '--ttl', '15m', '--claim', 'groups=["dev"]', '--sid', 'S1',
    ]);
    expect(r.code).toBe(EXIT.ok);
    const outcome = await verify('keys/jwks.json', r.stdout.trim());
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.principal).toMatchObject({ user: 'alice', actor: 'agent-7', priorActors: ['planner', 'root'], sessionId: 'S1', scopes: ['tools:call', 'files:read'] });
    expect(outcome.principal.expiresAt! - outcome.principal.issuedAt!).toBe(900);
  });

  it('mint --act-iss names the acting agent\'s own issuer (act.iss), which warden keeps apart', async () => {
    expect(warden(['token', 'keygen', '--out', 'actiss', '--kid', 'ai-1']).code).toBe(EXIT.ok);
    const r = warden(['token', 'mint', '--key', 'actiss/ai-1.private.jwk', '--iss', ISS, '--aud', AUD, '--sub', 'alice', '--act', 'agent-7', '--act-iss', 'https://agents.example']);
    expect(r.code).toBe(EXIT.ok);
    const outcome = await verify('actiss/jwks.json', r.stdout.trim());
    expect(outcome.ok ? outcome.principal : outcome.reason).toMatchObject({ user: 'alice', actor: 'agent-7', actorIssuer: 'https://agents.example' });
    expect(warden(['token', 'mint', '--key', 'actiss/ai-1.private.jwk', '--iss', ISS, '--aud', AUD, '--sub', 'alice', '--act-iss', 'https://agents.example']).code).toBe(EXIT.usage);
    expect(warden(['token', 'mint', '--key', 'actiss/ai-1.private.jwk', '--iss', ISS, '--aud', AUD, '--sub', 'alice', '--act', 'a', '--act-iss', '']).code).toBe(EXIT.usage);
  });

  it('keygen appends to an existing JWKS for rotation', () => {
    expect(warden(['token', 'keygen', '--alg', 'RS256', '--out', 'rot', '--kid', 'old']).code).toBe(EXIT.ok);
    expect(warden(['token', 'keygen', '--alg', 'RS256', '--out', 'rot', '--kid', 'new']).code).toBe(EXIT.ok);
    const jwks = JSON.parse(readFileSync(join(dir, 'rot/jwks.json'), 'utf8')) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['old', 'new']);
  });

  it('mints with a PEM key and --alg', async () => {
    expect(warden(['token', 'keygen', '--out', 'pem', '--kid', 'p1', '--format', 'pem']).code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, 'pem/p1.private.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    const noAlg = warden(['token', 'mint', '--key', 'pem/p1.private.pem', '--iss', ISS, '--aud', AUD, '--sub', 'bob']);
    expect(noAlg.code).toBe(EXIT.config);
    const r = warden(['token', 'mint', '--key', 'pem/p1.private.pem', '--alg', 'ES256', '--kid', 'p1', '--iss', ISS, '--aud', AUD, '--sub', 'bob']);
    expect(r.code).toBe(EXIT.ok);
    const outcome = await verify('pem/jwks.json', r.stdout.trim());
    expect(outcome.ok ? outcome.principal.user : outcome.reason).toBe('bob');
  });

  it('mint with an --alg that does not fit the key names the key file, the algorithm and those that fit (exit 2), not jose\'s "Invalid key type"', () => {
    expect(warden(['token', 'keygen', '--out', 'fit', '--kid', 'ec']).code).toBe(EXIT.ok);
    expect(warden(['token', 'keygen', '--out', 'fit', '--kid', 'ecpem', '--format', 'pem']).code).toBe(EXIT.ok);
    expect(warden(['token', 'keygen', '--out', 'fit', '--kid', 'rsa', '--alg', 'RS256', '--format', 'pem']).code).toBe(EXIT.ok);
    const mint = (key: string, alg: string) => warden(['token', 'mint', '--key', key, '--alg', alg, '--iss', ISS, '--aud', AUD, '--sub', 'bob']);
    const cases = [
      { key: 'fit/ec.private.jwk', alg: 'RS256', says: '--alg RS256 does not fit this key (EC P-256); algorithms that fit: ES256' },
      { key: 'fit/ecpem.private.pem', alg: 'ES384', says: '--alg ES384 does not fit this key (EC P-256); algorithms that fit: ES256' },
      { key: 'fit/rsa.private.pem', alg: 'EdDSA', says: '--alg EdDSA does not fit this key (RSA 2048-bit); algorithms that fit: RS256, RS384, RS512, PS256, PS384, PS512' },
      { key: 'fit/ec.private.jwk', alg: 'HS256', says: '--alg HS256 is not an asymmetric JWS signing algorithm; algorithms that fit: ES256' },
    ];
    for (const c of cases) {
      const r = mint(c.key, c.alg);
      expect({ code: r.code, stdout: r.stdout }, `${c.key} ${c.alg}`).toEqual({ code: EXIT.usage, stdout: '' });
      expect(r.stderr, `${c.key} ${c.alg}`).toBe(`warden token: ${join(dir, c.key)}: ${c.says}\n`);
    }
    // The JWK's own "alg" not fitting its key is the key file's fault: exit 3, as for any unusable key file.
    const jwk = JSON.parse(readFileSync(join(dir, 'fit/ec.private.jwk'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'fit/lying.private.jwk'), JSON.stringify({ ...jwk, alg: 'RS256' }));
    const lying = warden(['token', 'mint', '--key', 'fit/lying.private.jwk', '--iss', ISS, '--aud', AUD, '--sub', 'bob']);
    expect(lying.code).toBe(EXIT.config);
    expect(lying.stderr).toContain(`${join(dir, 'fit/lying.private.jwk')}: the JWK's "alg" RS256 does not fit this key (EC P-256); algorithms that fit: ES256`);
  });

  it('reports usage errors with exit 2', () => {
    expect(warden(['token', 'mint', '--key', 'x']).code).toBe(EXIT.usage);
    expect(warden(['token', 'keygen', '--alg', 'HS256']).code).toBe(EXIT.usage);
    expect(warden(['token', 'keygen', '--kid', '../escape']).code).toBe(EXIT.usage);
    expect(warden(['token', 'keygen', '--nope']).code).toBe(EXIT.usage);
    expect(warden(['token']).code).toBe(EXIT.usage);
  });

  it('prints help', () => {
    const r = warden(['token', '--help']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('warden token mint');
    expect(execFileSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' })).toContain('token');
  });
});
