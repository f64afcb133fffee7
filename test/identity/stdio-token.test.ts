import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { isThenable } from '../../src/core/maybe-promise.js';
import { generateSigningKey, mintToken, type SigningKey } from '../../src/identity/dev-tokens.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt-authenticator.js';
import { createTokenSource } from '../../src/identity/stdio-token-source.js';
import { AUD, ISS, NOW_MS, identityConfig } from './token-forge.js';

let key: SigningKey;
let dir: string;
let now: number;
const opened: JwtAuthenticator[] = [];

beforeAll(async () => {
  key = await generateSigningKey({ alg: 'ES256', kid: 'k1' });
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-stdio-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(key.jwks));
  now = NOW_MS;
});

afterEach(async () => {
  for (const a of opened.splice(0)) await a.close();
  rmSync(dir, { recursive: true, force: true });
});

const mint = (sub: string, ttlSeconds = 600) =>
  mintToken({ key, issuer: ISS, audience: AUD, subject: sub, actor: 'agent-7', ttlSeconds, nowMs: now });

async function open(token: { env: string } | { file: string }, env: NodeJS.ProcessEnv = {}): Promise<JwtAuthenticator> {
  const cfg = identityConfig({
    issuers: [{ issuer: ISS, audience: AUD, jwksFile: 'jwks.json', algorithms: ['ES256'], clockTolerance: 30 }],
    token,
  });
  const auth = await createJwtAuthenticator(cfg, { clock: () => now, baseDir: dir, env });
  opened.push(auth);
  return auth;
}

const userOf = async (auth: JwtAuthenticator) => {
  const r = await auth.authenticateStdio();
  return r.ok ? r.principal.user : r.reason;
};

describe('stdio token from a file', () => {
  it('re-reads a rewritten token file on the next call', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${await mint('alice')}\n`);
    const auth = await open({ file: 'token' });
    expect(await userOf(auth)).toBe('alice');
    writeFileSync(file, await mint('bob'));
    expect(await userOf(auth)).toBe('bob');
  });

  it('sees an atomic rename-over replacement', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, await mint('alice'));
    const auth = await open({ file: 'token' });
    expect(await userOf(auth)).toBe('alice');
    writeFileSync(join(dir, 'token.tmp'), await mint('carol'));
    renameSync(join(dir, 'token.tmp'), file);
    expect(await userOf(auth)).toBe('carol');
  });

  it('rejects an expired token on the next call with token_expired, then accepts a refreshed one', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, await mint('alice', 60));
    const auth = await open({ file: 'token' });
    expect(await userOf(auth)).toBe('alice');
    now += 91_000; // past exp (60 s) plus tolerance (30 s)
    const r = await auth.authenticateStdio();
    expect(r.ok ? 'ok' : [r.status, r.reason]).toEqual([401, 'token_expired']);
    if (!r.ok) expect(r.description).toContain(file);
    writeFileSync(file, await mint('alice', 600));
    expect(await userOf(auth)).toBe('alice');
  });

  it('fails closed when the token file disappears', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, await mint('alice'));
    const auth = await open({ file: 'token' });
    rmSync(file);
    expect(await userOf(auth)).toBe('token_unavailable');
  });

  it('refuses to read a token file larger than 16 KiB', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, await mint('alice'));
    const auth = await open({ file: 'token' });
    writeFileSync(file, 'x'.repeat(20_000));
    expect(await userOf(auth)).toBe('token_unavailable');
  });

  it('fails start-up with a clear error when the token is invalid', async () => {
    writeFileSync(join(dir, 'token'), (await mint('alice')).replace(/\.[^.]+$/, '.AAAA'));
    const err = await open({ file: 'token' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).keyPath).toBe('identity.token');
    expect((err as Error).message).toContain('signature_invalid');
  });

  it('fails start-up when the token file is missing', async () => {
    const err = await open({ file: 'nope' }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('token_unavailable');
  });
});

describe('stdio token file readable by every local user', () => {
  const warningsFor = (mode: number): Record<string, unknown>[] => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const file = join(dir, 'agent.jwt');
    writeFileSync(file, 'header.payload.signature\n');
    chmodSync(file, mode);
    const source = createTokenSource({ file: 'agent.jwt' }, { baseDir: dir, env: {}, logger });
    try {
      // Read twice: the warning is once per content of the file, not once per call.
      expect(source.read()).toEqual({ ok: true, token: 'header.payload.signature' });
      expect(source.read()).toEqual({ ok: true, token: 'header.payload.signature' });
    } finally {
      source.close();
    }
    return lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('readable by every local user'));
  };

  it.skipIf(process.platform === 'win32')('warns (once) that another local user could take the token and act as the agent', () => {
    const warnings = warningsFor(0o644);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ path: join(dir, 'agent.jwt'), mode: '0644' });
    expect(String(warnings[0]!.msg)).toContain(`chmod 600 ${join(dir, 'agent.jwt')}`);
  });

  it('says nothing about a token file only its owner can read', () => {
    expect(warningsFor(0o600)).toEqual([]);
  });
});

describe('stdio token from an environment variable', () => {
  it('verifies the env token at start-up and on every call', async () => {
    const auth = await open({ env: 'WARDEN_TOKEN' }, { WARDEN_TOKEN: await mint('dave', 60) });
    expect(await userOf(auth)).toBe('dave');
    now += 120_000;
    const r = await auth.authenticateStdio();
    expect(r.ok ? 'ok' : r.reason).toBe('token_expired');
    if (!r.ok) expect(r.description).toContain('WARDEN_TOKEN');
  });

  it('fails start-up when the variable is unset', async () => {
    const err = await open({ env: 'WARDEN_TOKEN' }, {}).catch((e: unknown) => e);
    expect((err as ConfigError).keyPath).toBe('identity.token');
  });
});

describe('stdio without a token source', () => {
  it('rejects stdio calls when no token is configured', async () => {
    const cfg = identityConfig({ issuers: [{ issuer: ISS, audience: AUD, jwksFile: 'jwks.json', algorithms: ['ES256'] }] });
    const auth = await createJwtAuthenticator(cfg, { clock: () => now, baseDir: dir });
    expect(await userOf(auth)).toBe('token_unavailable');
  });
});

describe('stdio token: the per-call check', () => {
  it('answers from the verification cache without a promise once the token is verified', async () => {
    writeFileSync(join(dir, 'token'), await mint('alice'));
    const auth = await open({ file: 'token' });
    expect(await userOf(auth)).toBe('alice');
    const again = auth.authenticateStdio();
    expect(isThenable(again)).toBe(false);
    expect(again).toMatchObject({ ok: true, principal: { user: 'alice' } });
  });

  it('a token swapped for a forged one is verified again, not taken from the cache', async () => {
    writeFileSync(join(dir, 'token'), await mint('alice'));
    const auth = await open({ file: 'token' });
    expect(await userOf(auth)).toBe('alice');
    const other = await generateSigningKey({ alg: 'ES256', kid: 'k1' });
    writeFileSync(join(dir, 'token'), await mintToken({ key: other, issuer: ISS, audience: AUD, subject: 'mallory', ttlSeconds: 600, nowMs: now }));
    const check = auth.authenticateStdio();
    expect(isThenable(check)).toBe(true);
    expect(await check).toMatchObject({ ok: false, reason: 'signature_invalid' });
  });
});
