import { describe, expect, it } from 'vitest';
import { closedAfterEach } from '../helpers/closed-after-each.js';
import { mcpPost, openHttpSession } from '../helpers/hostile-http.js';
import { startHttpWarden } from '../helpers/in-process-warden.js';
import { connectHttp } from '../helpers/mcp-clients.js';
import { until } from '../helpers/ops-warden.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { createTestAuthenticator, testPrincipal } from '../helpers/test-authenticator.js';

/**
 * Session caps and eviction against a real in-process warden when one user reaches it through
 * several apps: tokens of the same principal (alice, no actor) issued to different OAuth clients,
 * or to the same client through another delegation chain. A session is bound to principal +
 * chain + client (session-binding.ts); eviction and the per-client cap go by that binding, the
 * per-principal cap (maxSessionsPerPrincipal: 2 here, so 1 per client by default) by the user.
 */
const tokens = {
  'app-one': { ...testPrincipal('alice'), clientId: 'app-one' },
  'app-two': { ...testPrincipal('alice'), clientId: 'app-two' },
  'app-three': { ...testPrincipal('alice'), clientId: 'app-three' },
  'coder-direct': { ...testPrincipal('alice', 'coder'), clientId: 'app-one' },
  'coder-via-planner': { ...testPrincipal('alice', 'coder'), clientId: 'app-one', priorActors: ['planner'], priorActorIssuers: [null] },
};
const bearer = (token: keyof typeof tokens): Record<string, string> => ({ authorization: `Bearer ${token}` });

const closers = closedAfterEach();

async function wardenFor(http: Record<string, unknown> = {}) {
  const audit = createRecordingAudit();
  // Session lifecycle is the guard's to record: here only which sessions closed, and why.
  const closed: Array<{ sessionId: string; reason: string }> = [];
  const guard = { checkToolCall: () => ({ kind: 'forward' as const }), onSessionClosed: (s: { sessionId: string }, reason: string) => void closed.push({ sessionId: s.sessionId, reason }) };
  const warden = await startHttpWarden(
    { dangerouslyAllowAnonymous: false, listen: { stdio: false, http: { port: 0, maxSessionsPerPrincipal: 2, ...http } } },
    { authenticator: createTestAuthenticator(tokens), audit, guard },
  );
  closers.push(() => warden.close());
  return { warden, audit, closed };
}

/** Holds the session's GET stream open (an agent listening for notifications): the session is attended while it lasts. */
async function listenOn(url: string, headers: Record<string, string>): Promise<void> {
  const aborter = new AbortController();
  const res = await fetch(url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' }, signal: aborter.signal });
  expect(res.status).toBe(200);
  closers.push(() => aborter.abort());
}

const stillOpen = async (url: string, s: Awaited<ReturnType<typeof openHttpSession>>): Promise<number> =>
  (await mcpPost(url, JSON.stringify({ jsonrpc: '2.0', id: 'probe', method: 'tools/list', params: {} }), s.headers)).status;

describe('HTTP session caps with several apps of one user', () => {
  it('blocks another app of the same user from closing an app\'s session that is between two calls (cross-app eviction)', async () => {
    const { warden, closed } = await wardenFor();
    // App one's agent: a session without a GET stream and nothing in flight right now, as between two calls.
    const appOne = await openHttpSession(warden.url, bearer('app-one'));
    // App two opens sessions in a loop: at the caps it may only make room among its own.
    await openHttpSession(warden.url, bearer('app-two'));
    await openHttpSession(warden.url, bearer('app-two'));
    expect(await stillOpen(warden.url, appOne)).toBe(200);
    const evicted = () => closed.filter((c) => c.reason === 'evicted_for_new_session');
    await until(() => evicted().length > 0, 8_000, 'an eviction');
    expect(evicted()).toHaveLength(1);
    expect(evicted()[0]!.sessionId).not.toBe(appOne.sessionId);
  });

  it('blocks another delegation chain of the same agent from closing the session its chain opened (cross-chain eviction)', async () => {
    const { warden } = await wardenFor();
    const direct = await openHttpSession(warden.url, bearer('coder-direct'));
    await openHttpSession(warden.url, bearer('coder-via-planner'));
    await openHttpSession(warden.url, bearer('coder-via-planner'));
    expect(await stillOpen(warden.url, direct)).toBe(200);
  });

  it('blocks one app of a user from using up the user\'s sessions so that another app cannot open one', async () => {
    const { warden, audit } = await wardenFor();
    // App one holds its sessions and listens on them (attended: never evicted).
    const first = await openHttpSession(warden.url, bearer('app-one'));
    await listenOn(warden.url, first.headers);
    const second = await mcpPost(warden.url, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'greedy', version: '1' } } }), bearer('app-one'));
    expect(second.status).toBe(429);
    expect(second.messages[0]).toMatchObject({ error: { code: -32000 } });
    expect(audit.ofType('session.refused').at(-1)).toMatchObject({ reason: 'too_many_sessions_for_client', open: 1, limit: 1, principal: { user: 'alice' } });
    // App two, a real SDK client, still gets in and works.
    const appTwo = await connectHttp(warden.url, { token: 'app-two' });
    closers.push(() => appTwo.close());
    expect((await appTwo.client.listTools()).tools.length).toBeGreaterThan(0);
    expect(await stillOpen(warden.url, first)).toBe(200);
  });

  it('blocks a user from lifting its own cap by presenting tokens of more apps (per-principal total)', async () => {
    const { warden, audit } = await wardenFor();
    for (const app of ['app-one', 'app-two'] as const) await listenOn(warden.url, (await openHttpSession(warden.url, bearer(app))).headers);
    await expect(openHttpSession(warden.url, bearer('app-three'))).rejects.toThrow(/429/);
    expect(audit.ofType('session.refused').at(-1)).toMatchObject({ reason: 'too_many_sessions_for_principal', open: 2, limit: 2 });
  });

  it('lets one app use the whole principal share when maxSessionsPerClient says so', async () => {
    const { warden } = await wardenFor({ maxSessionsPerClient: 2 });
    for (let i = 0; i < 2; i += 1) await listenOn(warden.url, (await openHttpSession(warden.url, bearer('app-one'))).headers);
    await expect(openHttpSession(warden.url, bearer('app-two'))).rejects.toThrow(/429/);
  });
});
