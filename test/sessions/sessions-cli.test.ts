import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubjectEffect } from '../../src/events/registry-entry.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { SessionRegistry } from '../../src/sessions/session-registry.js';
import { sessionRoutes } from '../../src/sessions/session-routes.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { startControlHarness } from '../events/control-harness.js';
import { MemoryAudit, principal } from '../events/set-helpers.js';
import { runCli } from './run-cli.js';

const T0 = 1_700_000_000_000;

describe('warden sessions / warden revoke against the control routes', () => {
  let harness: Awaited<ReturnType<typeof startControlHarness>>;
  let dir: string;
  let tokenFile: string;
  const sessions = new SessionRegistry();
  const revoked: SubjectEffect[] = [];
  const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0, sessions, onRevoke: (e) => void revoked.push(e) });

  beforeAll(async () => {
    sessions.opened({ sessionId: 'sess-a1', principal: principal({ issuedAt: T0 / 1000 - 60 }), transport: 'http', remoteAddress: '10.0.0.5', userAgent: 'claude', openedAt: T0 - 125_000 });
    sessions.opened({ sessionId: 'sess-b1', principal: principal({ user: 'bob', actor: undefined }), transport: 'stdio', remoteAddress: undefined, userAgent: undefined, openedAt: T0 - 5_000 });
    sessions.recordCall('sess-a1', 12, 'allow', T0 - 1000);
    sessions.recordCall('sess-a1', 71, 'approve', T0 - 500);
    sessions.recordCall('sess-a1', 30, 'block', T0 - 100);
    harness = await startControlHarness(sessionRoutes(sessions, registry, () => T0), 'admin-secret');
    dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
    mkdirSync(join(dir, '.warden'));
    tokenFile = join(dir, '.warden', 'admin-token');
    writeFileSync(tokenFile, 'admin-secret\n');
  });
  afterAll(async () => harness.close());

  it('lists active sessions as a table', async () => {
    const r = await runCli(['sessions', '--url', harness.url, '--token-file', tokenFile]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SESSION\s+USER\s+AGENT\s+TRANSPORT\s+ADDRESS\s+AGE\s+CALLS\s+RISK/);
    expect(lines[1]).toMatch(/^sess-a1\s+alice\s+agent-7\s+http\s+10\.0\.0\.5\s+2m05s\s+3 \(1a 1b\)\s+30\/71$/);
    expect(lines[2]).toMatch(/^sess-b1\s+bob\s+-\s+stdio\s+-\s+5s\s+0 \(0a 0b\)\s+-$/);
  });

  it('prints JSON with --json, using the default token file and env URL', async () => {
    const r = await runCli(['sessions', '--json'], { cwd: dir, env: { WARDEN_CONTROL_URL: harness.url } });
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { sessions: { sessionId: string; calls: { total: number }; risk: { max: number } }[] };
    expect(body.sessions.map((s) => s.sessionId)).toEqual(['sess-a1', 'sess-b1']);
    expect(body.sessions[0]?.calls.total).toBe(3);
    expect(body.sessions[0]?.risk.max).toBe(71);
  });

  it('fails with exit 1 when the admin credential is wrong', async () => {
    const bad = join(dir, 'bad-token');
    writeFileSync(bad, 'nope');
    const r = await runCli(['sessions', '--url', harness.url, '--token-file', bad]);
    expect(r.code).toBe(1);
  });

  it('fails with exit 3 naming the token file when it is missing', async () => {
    const r = await runCli(['sessions', '--url', harness.url, '--token-file', join(dir, 'missing')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(join(dir, 'missing'));
  });

  it('fails with exit 4 when warden is not running', async () => {
    const r = await runCli(['sessions', '--url', 'http://127.0.0.1:9', '--token-file', tokenFile]);
    expect(r.code).toBe(4);
  });

  it('revoke needs exactly one target (usage error otherwise)', async () => {
    expect((await runCli(['revoke', '--url', harness.url, '--token-file', tokenFile])).code).toBe(2);
    expect((await runCli(['revoke', '--user', 'a', '--agent', 'b', '--url', harness.url, '--token-file', tokenFile])).code).toBe(2);
    expect((await runCli(['revoke', '--help'])).code).toBe(0);
  });

  it('revokes a user through the control API: registry blocks, hook sees the session', async () => {
    const r = await runCli(['revoke', '--user', 'alice', '--url', harness.url, '--token-file', tokenFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^revoked user "alice" at .* \(entry [0-9a-f-]+\); closed 1 session\(s\): sess-a1\n$/);
    expect(registry.evaluate(principal({ issuedAt: T0 / 1000 - 60 }), 'sess-a1', T0).kind).toBe('revoked');
    expect(revoked.at(-1)?.match).toEqual({ user: 'alice' });
    expect(revoked.at(-1)?.sessionIds).toEqual(['sess-a1']);
  });

  it('revokes a session and an agent with --json output', async () => {
    const s = await runCli(['revoke', '--session', 'sess-b1', '--json', '--url', harness.url, '--token-file', tokenFile]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ revoked: { subject: { wardenSession: 'sess-b1' } }, sessionIds: ['sess-b1'] });
    const a = await runCli(['revoke', '--agent', 'agent-9', '--json', '--url', harness.url, '--token-file', tokenFile]);
    expect(a.code).toBe(0);
    expect(registry.evaluate(principal({ user: 'zoe', actor: 'agent-9', issuedAt: 1 }), 'x', T0).kind).toBe('revoked');
  });

  it('GET /revocations lists standing entries, and routes need the admin token', async () => {
    const res = await fetch(`${harness.url}/revocations`, { headers: { authorization: 'Bearer admin-secret' } });
    const body = (await res.json()) as { entries: { kind: string; subject: Record<string, string> }[] };
    expect(body.entries.map((e) => e.subject)).toEqual(expect.arrayContaining([{ user: 'alice' }, { wardenSession: 'sess-b1' }, { agent: 'agent-9' }]));
    expect((await fetch(`${harness.url}/revocations`)).status).toBe(401);
  });

  it('the /revoke route rejects a body with several or unknown targets', async () => {
    for (const body of [{ user: 'a', agent: 'b' }, { tenant: 'x' }, { user: '' }, ['user'], { user: 'a\nb' }]) {
      const res = await fetch(`${harness.url}/revoke`, { method: 'POST', headers: { authorization: 'Bearer admin-secret', 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(400);
    }
  });
});
