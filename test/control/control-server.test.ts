import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateAdminToken } from '../../src/control/admin-token.js';
import { ControlConfigSchema } from '../../src/control/control-config.js';
import { createControlClient } from '../../src/control/control-client.js';
import { startControlServer } from '../../src/control/control-server.js';
import { silentLogger } from '../../src/logging/logger.js';
import { WardenError } from '../../src/core/errors.js';
import { CAROL_TOKEN, controlFixture, raw } from '../fixtures/enforce/control-fixture.js';

type Fixture = Awaited<ReturnType<typeof controlFixture>>;
let fx: Fixture | undefined;
afterEach(async () => {
  fx?.manager.close();
  await fx?.server.close();
  fx = undefined;
});

async function start(options?: Parameters<typeof controlFixture>[0]): Promise<Fixture & { token: string }> {
  fx = await controlFixture(options);
  return { ...fx, token: readFileSync(fx.tokenFile, 'utf8').trim() };
}

describe('control server: admission', () => {
  it('generates the admin token file with mode 0600 and listens on loopback', async () => {
    const f = await start();
    expect(f.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(f.tokenFile).mode & 0o777).toBe(0o600);
    expect(f.token.length).toBeGreaterThanOrEqual(32);
    expect(f.server.adminTokenFile).toBe(f.tokenFile);
  });

  it('requires the admin credential (401 without or with a wrong one)', async () => {
    const f = await start();
    const none = await raw(f.server.url, { path: '/approvals' });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('unauthorized');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await raw(f.server.url, { path: '/approvals', headers: { authorization: `Bearer ${f.token}x` } });
    expect(wrong.status).toBe(401);
    const basic = await raw(f.server.url, { path: '/approvals', headers: { authorization: `Basic ${f.token}` } });
    expect(basic.status).toBe(401);
    const ok = await raw(f.server.url, { path: '/approvals', headers: { authorization: `Bearer ${f.token}` } });
    expect(ok).toMatchObject({ status: 200, body: { approvals: [] } });
  });

  it('rejects DNS rebinding: a non-loopback Host header gets 403', async () => {
    const f = await start();
    const r = await raw(f.server.url, { path: '/approvals', headers: { host: 'evil.example:80', authorization: `Bearer ${f.token}` } });
    expect(r).toMatchObject({ status: 403, body: { error: 'forbidden_host' } });
    const local = await raw(f.server.url, { path: '/approvals', headers: { host: 'localhost:1234', authorization: `Bearer ${f.token}` } });
    expect(local.status).toBe(200);
  });

  it('rejects a browser Origin outside the allowlist with 403', async () => {
    const f = await start({ control: { allowedOrigins: ['http://localhost:5173'] } });
    const evil = await raw(f.server.url, { path: '/approvals', headers: { origin: 'http://evil.example', authorization: `Bearer ${f.token}` } });
    expect(evil).toMatchObject({ status: 403, body: { error: 'forbidden_origin' } });
    const nul = await raw(f.server.url, { path: '/approvals', headers: { origin: 'null', authorization: `Bearer ${f.token}` } });
    expect(nul.status).toBe(403);
    const allowed = await raw(f.server.url, { path: '/approvals', headers: { origin: 'http://localhost:5173', authorization: `Bearer ${f.token}` } });
    expect(allowed.status).toBe(200);
  });

  it('accepts JSON bodies only, bounded in size', async () => {
    const f = await start({ control: { maxBodyBytes: 256 } });
    const auth = { authorization: `Bearer ${f.token}` };
    const form = await raw(f.server.url, { method: 'POST', path: '/approvals/x/deny', headers: { ...auth, 'content-type': 'text/plain' }, body: 'reason=x' });
    expect(form).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    const big = await raw(f.server.url, { method: 'POST', path: '/approvals/x/deny', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'x'.repeat(400) }) });
    expect(big).toMatchObject({ status: 413, body: { error: 'body_too_large' } });
    const bad = await raw(f.server.url, { method: 'POST', path: '/approvals/x/deny', headers: { ...auth, 'content-type': 'application/json' }, body: '{' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
    const missing = await raw(f.server.url, { method: 'POST', path: '/approvals/x/deny', headers: auth });
    expect(missing).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect((await raw(f.server.url, { path: '/nope', headers: auth })).status).toBe(404);
    expect((await raw(f.server.url, { method: 'DELETE', path: '/approvals', headers: auth })).status).toBe(405);
  });

  it('keeps approver tokens off admin-only routes', async () => {
    const f = await start({
      extraRoutes: [{ method: 'POST', path: '/sessions/:id/revoke', handle: async ({ params }) => ({ status: 200, body: { revoked: params.id } }) }],
    });
    const approver = await raw(f.server.url, { method: 'POST', path: '/sessions/s1/revoke', headers: { authorization: `Bearer ${CAROL_TOKEN}` } });
    expect(approver).toMatchObject({ status: 403, body: { error: 'forbidden_role' } });
    const admin = await raw(f.server.url, { method: 'POST', path: '/sessions/s1/revoke', headers: { authorization: `Bearer ${f.token}` } });
    expect(admin).toMatchObject({ status: 200, body: { revoked: 's1' } });
  });

  it('serves over a Unix socket with mode 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-sock-'));
    const f = await start({ control: { socketPath: join(dir, 'control.sock') } });
    expect(f.server.url).toBe(`unix:${join(dir, 'control.sock')}`);
    expect(statSync(join(dir, 'control.sock')).mode & 0o777).toBe(0o600);
    const client = createControlClient({ url: f.server.url, token: f.token });
    expect(await client.request('GET', '/approvals')).toEqual({ status: 200, body: { approvals: [] } });
  });
});

describe('admin token and control config', () => {
  it('refuses a token file readable by others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-tok-'));
    const file = join(dir, 'admin-token');
    writeFileSync(file, 'a'.repeat(40));
    chmodSync(file, 0o644);
    expect(() => loadOrCreateAdminToken({ file })).toThrow(WardenError);
    try {
      loadOrCreateAdminToken({ file });
    } catch (err) {
      expect((err as WardenError).code).toBe('config_invalid');
    }
    chmodSync(file, 0o600);
    expect(loadOrCreateAdminToken({ file })).toMatchObject({ token: 'a'.repeat(40), generated: false });
  });

  it('reads the token from an env var when configured', () => {
    expect(loadOrCreateAdminToken({ file: 'unused', envName: 'TOK', env: { TOK: 'b'.repeat(20) } }).token).toBe('b'.repeat(20));
    expect(() => loadOrCreateAdminToken({ file: 'unused', envName: 'TOK', env: {} })).toThrow(/TOK/);
  });

  it('refuses an approver credential shared with another approver or the admin (bob would answer as alice, or as admin)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-tok-'));
    const start = (approvers: { id: string; token: string }[], adminToken = 'admin-token-0123456789abcdef') =>
      startControlServer({ config: ControlConfigSchema.parse({ port: 0, adminTokenFile: join(dir, 'admin-token') }), routes: [], logger: silentLogger(), approvers, adminToken, baseDir: dir });
    // Two approvers with one credential: whoever presents it is taken for the first, so bob could
    // approve bob's own calls as "alice", and the audit names the wrong human.
    const shared = start([{ id: 'alice', token: 'same-approver-token-0123456789' }, { id: 'bob', token: 'same-approver-token-0123456789' }]);
    await expect(shared).rejects.toMatchObject({ code: 'config_invalid', keyPath: 'approvals.approvers[1]' });
    // An approver holding the admin credential is taken for the admin: no self-approval check, admin routes open.
    const asAdmin = start([{ id: 'carol', token: 'admin-token-0123456789abcdef' }]);
    await expect(asAdmin).rejects.toMatchObject({ code: 'config_invalid', keyPath: 'approvals.approvers[0]' });
    const fine = await start([{ id: 'alice', token: 'alice-approver-token-0123456789' }, { id: 'bob', token: 'bob-approver-token-0123456789' }]);
    await fine.close();
  });

  it('refuses a non-loopback listen address unless dangerouslyAllowNonLoopback', () => {
    expect(ControlConfigSchema.safeParse({ host: '0.0.0.0' }).success).toBe(false);
    expect(ControlConfigSchema.safeParse({ host: '0.0.0.0', dangerouslyAllowNonLoopback: true }).success).toBe(true);
    expect(ControlConfigSchema.safeParse({ prot: 1 }).success).toBe(false);
  });
});
