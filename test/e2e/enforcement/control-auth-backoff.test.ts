import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlUrlFileFor } from '../../../src/control/control-url-file.js';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { auditOfType, eventually, identityEnv, type IdentityEnv } from '../../helpers/identity-env.js';
import { writeSecret } from '../../helpers/enforcement-identity.js';
import { startHttpWarden, type HttpWarden } from '../../helpers/identity-warden.js';

/**
 * Credential guessing on the control API, against a real `warden run` and real HTTP requests.
 * Two source addresses on one machine: Linux routes all of 127.0.0.0/8 to loopback, so a client
 * bound to 127.0.0.2 reaches the control API on 127.0.0.1 from another address.
 */
const LIMITS = { maxFailures: 3, lockoutMs: 1_500, maxLockoutMs: 6_000, forgetAfterMs: 60_000 };

let env: IdentityEnv;
let warden: HttpWarden;
let controlUrl: string;
let adminToken: string;
let carolToken: string;

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

/** GET /approvals with `token`, from `localAddress`. */
function getApprovals(token: string, localAddress: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${controlUrl}/approvals`, { localAddress, headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const controlFailures = () => auditOfType(env.auditFile, 'identity.failed').filter((r) => r.transport === 'control');

beforeAll(async () => {
  env = await identityEnv('warden-e2e-ctl-auth-');
  const carol = writeSecret(env.dir, 'carol.token');
  carolToken = carol.value;
  warden = await startHttpWarden(env.dir, env.config({
    policy: { files: [TRANSPARENT_POLICY], watch: false },
    control: { port: 0, adminTokenFile: env.adminTokenFile, authFailures: LIMITS },
    approvals: { approvers: [{ id: 'carol', tokenFile: carol.file }] },
  }));
  controlUrl = await eventually(() => {
    try {
      return readFileSync(controlUrlFileFor(env.adminTokenFile), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  });
  adminToken = readFileSync(env.adminTokenFile, 'utf8').trim();
});
afterAll(async () => {
  await warden?.stop();
});

describe('control API: back-off after failed authentication', () => {
  it('an address that guessed wrong maxFailures times is refused with 429 and Retry-After, its right token included, until the back-off ends; other addresses are unaffected', async () => {
    const guesser = '127.0.0.1';
    const other = '127.0.0.2';
    for (let i = 0; i < LIMITS.maxFailures; i++) expect((await getApprovals(`guess-${i}-${'x'.repeat(20)}`, guesser)).status).toBe(401);
    // Locked: neither another guess nor the admin token itself is checked.
    const guessed = await getApprovals('guess-again-xxxxxxxxxxxxxxxxxxxx', guesser);
    expect(guessed.status).toBe(429);
    expect(JSON.parse(guessed.body).error).toBe('too_many_failures');
    expect(Number(guessed.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(guessed.retryAfter)).toBeLessThanOrEqual(2);
    const right = await getApprovals(adminToken, guesser);
    expect(right.status).toBe(429);
    // Another address: its right token works, its wrong one is a plain 401.
    expect((await getApprovals(adminToken, other)).status).toBe(200);
    expect((await getApprovals('other-guess-xxxxxxxxxxxxxxxxxxxx', other)).status).toBe(401);
    // The back-off ends: the right token works again, but it does not wipe the failures before it
    // (they expire on their own): the next wrong guess locks the address again at once.
    await sleep(Number(right.retryAfter) * 1000 + 100);
    expect((await getApprovals(adminToken, guesser)).status).toBe(200);
    expect((await getApprovals('after-success-xxxxxxxxxxxxxxxxxx', guesser)).status).toBe(401);
    expect((await getApprovals(adminToken, guesser)).status).toBe(429);
  });

  it('a guesser who also holds a valid approver token cannot interleave it to reset its back-off (interleaved valid login)', async () => {
    const guesser = '127.0.0.5';
    for (let i = 0; i < LIMITS.maxFailures - 1; i++) expect((await getApprovals(`i-${i}-xxxxxxxxxxxxxxxxxxxxxx`, guesser)).status).toBe(401);
    // The low-privilege token is right and works...
    expect((await getApprovals(carolToken, guesser)).status).toBe(200);
    // ...but the failures before it still count: the next wrong guess is the one that locks.
    expect((await getApprovals('i-after-xxxxxxxxxxxxxxxxxxxxxxxx', guesser)).status).toBe(401);
    const locked = await getApprovals(carolToken, guesser);
    expect(locked.status).toBe(429);
    expect(JSON.parse(locked.body).error).toBe('too_many_failures');
  });

  it('each failure after a lock-out locks the address again for twice as long', async () => {
    const guesser = '127.0.0.3';
    for (let i = 0; i < LIMITS.maxFailures; i++) expect((await getApprovals(`g-${i}-xxxxxxxxxxxxxxxxxxxxxx`, guesser)).status).toBe(401);
    const first = await getApprovals('g-locked-xxxxxxxxxxxxxxxxxxxxxxx', guesser);
    expect(first.status).toBe(429);
    await sleep(LIMITS.lockoutMs + 100);
    // One more wrong guess after the lock: refused, and the next lock is 3 s (1.5 s doubled).
    expect((await getApprovals('g-again-xxxxxxxxxxxxxxxxxxxxxxxx', guesser)).status).toBe(401);
    const second = await getApprovals(adminToken, guesser);
    expect(second.status).toBe(429);
    expect(Number(second.retryAfter)).toBe(3);
    const locked = await eventually(() => controlFailures().find((r) => r.remoteAddress === guesser && r.lockedForMs === 3_000));
    expect(locked.reason).toBe('credential_invalid');
  });

  it('records failures as identity.failed (transport control) without flooding the audit: the rest are one summary', async () => {
    const flooder = '127.0.0.4';
    // Many attempts from one address: the lock-out refusals (429) are counted as well as the guesses.
    for (let i = 0; i < 40; i++) await getApprovals(`flood-${i}-xxxxxxxxxxxxxxxxxxxx`, flooder);
    const mine = await eventually(() => {
      const found = controlFailures().filter((r) => r.remoteAddress === flooder);
      return found.length >= 10 ? found : undefined;
    });
    // The sampler records the first 10 per address per minute in full.
    expect(mine).toHaveLength(10);
    expect(new Set(mine.map((r) => r.reason))).toEqual(new Set(['credential_invalid', 'locked_out']));
    for (const r of mine) expect(JSON.stringify(r)).not.toContain('flood-');
    await warden.stop();
    const summary = auditOfType(env.auditFile, 'identity.failures_suppressed').find((r) => r.transport === 'control');
    expect(summary).toMatchObject({ count: 30, top: [{ remoteAddress: flooder, count: 30 }] });
  });
});
