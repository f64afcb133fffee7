import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventsHttpWarden } from '../../helpers/events-warden.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { generateSigningKey } from '../../../src/identity/dev-tokens.js';
import { auditOfType, eventually, upstreamCalls, type IdentityEnv } from '../../helpers/identity-env.js';
import { runWardenCli, type HttpWarden } from '../../helpers/identity-warden.js';
import { at, CAEP, pushSet, userSubject, type Transmitter } from '../../helpers/events-sets.js';
import type { ControlApi } from '../../helpers/events-control.js';

/**
 * Issue 7 over Streamable HTTP, end to end: signed SETs pushed to a running warden's receiver
 * change what real agent sessions may do on their next call.
 */
type CallResult = { isError?: boolean; _meta?: Record<string, { reason?: string; rules?: string[]; reasons?: string[] }> };
const decisionOf = (r: unknown) => (r as CallResult)._meta?.['dev.mcp-warden/decision'];

let env: IdentityEnv;
let tx: Transmitter;
let warden: HttpWarden;
let eventsUrl: string;
let control: ControlApi;
/** Tokens of the session before an event: issued 10 s ago, so "issued after the event" is unambiguous. */
const oldToken = (user: string) => env.mint({ user, actor: 'agent-7', nowMs: Date.now() - 10_000 });
const newToken = (user: string) => env.mint({ user, actor: 'agent-7' });

beforeAll(async () => {
  ({ env, tx, warden, eventsUrl, control } = await startEventsHttpWarden('warden-e2e-ev-', {
    config: (e) => ({ identity: e.identity({ extraClaims: ['account_status'] }), approvals: { timeoutMs: 30_000 } }),
  }));
});
afterAll(async () => {
  await warden?.stop();
});

/** One raw MCP request with this token: the HTTP status and warden's reason code. */
async function staleRequest(token: string, sessionId: string | undefined, method: string): Promise<{ status: number; reason: unknown }> {
  const params = method === 'initialize' ? { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'stale', version: '1' } } : {};
  const res = await rawHttp(warden.url, {
    headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`,
      'mcp-protocol-version': '2025-06-18', ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return { status: res.status, reason: (JSON.parse(res.body) as { reason?: unknown }).reason };
}

describe('session revocation through a running warden (issue 7)', () => {
  it('withdraws the pending approval, closes the HTTP session, and only a token issued after the event works', async () => {
    const agent = await warden.connect(await oldToken('alice'));
    const sessionId = agent.transport.sessionId!;
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'before' } })).isError).toBeFalsy();
    const held = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 7 } });
    await control.waitPending('delete_record', 'alice');

    const set = await tx.mint({ subId: userSubject('alice'), events: { 'session-revoked': at(Date.now() - 5_000) } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);

    const withdrawn = await held;
    expect(withdrawn.isError).toBe(true);
    expect(decisionOf(withdrawn)?.reason).toBe('approval_withdrawn');
    expect(await control.pending()).toEqual([]);
    // The agent's next request on its session: its token is revoked, refused before the session
    // (which is gone too) is looked up.
    const next = await rawHttp(warden.url, {
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${await oldToken('alice')}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { message: 'after' } } }),
    });
    expect(next.status).toBe(401);
    expect((JSON.parse(next.body) as { reason?: string }).reason).toBe('token_revoked');
    await agent.close();
    expect(upstreamCalls(env.callLog)).not.toContain('delete_record');
    expect(auditOfType(env.auditFile, 'event.effect').some((r) => r.effect === 'revoke')).toBe(true);
    expect(auditOfType(env.auditFile, 'call.approval_withdrawn')).toHaveLength(1);
    expect(auditOfType(env.auditFile, 'session.closed').some((r) => r.sessionId === sessionId && r.reason === 'revoked')).toBe(true);

    // A token issued before the event is refused at the HTTP front (401 token_revoked): it can
    // open no session, so it can neither call tools nor list them or read resources...
    const before = upstreamCalls(env.callLog).length;
    await expect(warden.connect(await oldToken('alice'))).rejects.toThrow(/401|unauthori[sz]ed|invalid_token/i);
    expect(await staleRequest(await oldToken('alice'), sessionId, 'resources/list')).toMatchObject({ status: 401, reason: 'token_revoked' });
    expect(upstreamCalls(env.callLog).length).toBe(before);
    expect(auditOfType(env.auditFile, 'identity.failed').some((r) => r.reason === 'token_revoked' && r.transport === 'http')).toBe(true);
    // ...while a token issued after the event (the user signed in again) works.
    const fresh = await warden.connect(await newToken('alice'));
    expect((await fresh.client.callTool({ name: 'echo', arguments: { message: 'signed in again' } })).isError).toBeFalsy();
    await fresh.close();
  });

  it('revokes on credential-change of type revoke, and ignores other change types', async () => {
    const agent = await warden.connect(await oldToken('bob'));
    const sessionId = agent.transport.sessionId!;
    const ignored = await tx.mint({ subId: userSubject('bob'), events: { 'credential-change': { credential_type: 'password', change_type: 'create', ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, ignored)).status).toBe(202);
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'still fine' } })).isError).toBeFalsy();

    const revoking = await tx.mint({ subId: userSubject('bob'), events: { 'credential-change': { credential_type: 'password', change_type: 'revoke', ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, revoking)).status).toBe(202);
    await eventually(() => auditOfType(env.auditFile, 'session.closed').some((r) => r.sessionId === sessionId));
    await expect(agent.client.callTool({ name: 'echo', arguments: { message: 'too late' } })).rejects.toThrow(/401|unauthori[sz]ed|invalid_token/i);
    await agent.close().catch(() => undefined);
    const effects = auditOfType(env.auditFile, 'event.effect').filter((r) => String(r.eventType).endsWith('credential-change')).map((r) => r.effect);
    expect(effects).toEqual(['none', 'revoke']);
  });
});

describe('step-up through a running warden (issue 7)', () => {
  const stepUps: [string, string, Record<string, unknown>][] = [
    ['assurance-level-change (aal2 -> aal1)', 'carol', { 'assurance-level-change': { namespace: 'NIST-AAL', current_level: 'aal1', previous_level: 'aal2', change_direction: 'decrease' } }],
    ['device-compliance-change (not-compliant)', 'dave', { 'device-compliance-change': { current_status: 'not-compliant', previous_status: 'compliant' } }],
    ['risk-level-change (low -> high)', 'erin', { 'risk-level-change': { risk_reason: 'PASSWORD_FOUND_IN_DATA_BREACH', principal: 'USER', current_level: 'high', previous_level: 'low' } }],
  ];
  for (const [name, user, events] of stepUps) {
    it(`${name}: a high call now needs approval, low calls pass, a fresh token clears it`, async () => {
      const agent = await warden.connect(await oldToken(user));
      expect((await agent.client.callTool({ name: 'send_email', arguments: { to: 'x@acme.example', subject: 'before', body: 'b' } })).isError).toBeFalsy();
      const body: Record<string, Record<string, unknown>> = {};
      for (const [type, ev] of Object.entries(events)) body[type] = { ...(ev as Record<string, unknown>), ...at(Date.now() - 5_000) };
      expect((await pushSet(eventsUrl, await tx.mint({ subId: userSubject(user), events: body }))).status).toBe(202);

      const sentBefore = upstreamCalls(env.callLog).filter((t) => t === 'send_email').length;
      const held = agent.client.callTool({ name: 'send_email', arguments: { to: 'x@acme.example', subject: 'after', body: 'b' } });
      const pending = await control.waitPending('send_email', user);
      expect(pending.reasons.map((r) => r.code)).toContain('subject.step_up');
      expect((await control.post(`/approvals/${pending.id}/deny`, { reason: 'sign in again' })).status).toBe(200);
      const denied = await held;
      expect(decisionOf(denied)?.reason).toBe('approval_denied');
      expect(upstreamCalls(env.callLog).filter((t) => t === 'send_email').length).toBe(sentBefore);
      expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'low is fine' } })).isError).toBeFalsy();
      await agent.close();

      const fresh = await warden.connect(await newToken(user));
      const sent = await fresh.client.callTool({ name: 'send_email', arguments: { to: 'x@acme.example', subject: 'stepped up', body: 'b' } });
      expect(sent.isError).toBeFalsy();
      await fresh.close();
      expect(auditOfType(env.auditFile, 'event.effect').some((r) => r.effect === 'step_up' && r.eventType === CAEP + Object.keys(events)[0])).toBe(true);
    });
  }
});

describe('token-claims-change through a running warden (issue 7)', () => {
  it('applies the new claims to later decisions (a policy rule on the claim blocks), until a fresh token arrives', async () => {
    const agent = await warden.connect(await oldToken('frank'));
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'active' } })).isError).toBeFalsy();
    const set = await tx.mint({ subId: userSubject('frank'), events: { 'token-claims-change': { claims: { account_status: 'suspended' }, ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    const before = upstreamCalls(env.callLog).length;
    const blocked = await agent.client.callTool({ name: 'echo', arguments: { message: 'suspended' } });
    expect(blocked.isError).toBe(true);
    expect(decisionOf(blocked)).toMatchObject({ reason: 'policy_block', rules: expect.arrayContaining(['block-suspended']) });
    expect(upstreamCalls(env.callLog).length).toBe(before);
    await agent.close();
    const fresh = await warden.connect(await newToken('frank'));
    expect((await fresh.client.callTool({ name: 'echo', arguments: { message: 'reinstated' } })).isError).toBeFalsy();
    await fresh.close();
  });
});

describe('bad SETs against a running warden (issue 7)', () => {
  it('answers each forged or malformed SET with its error and changes nothing', async () => {
    const agent = await warden.connect(await oldToken('gina'));
    const revoke = { 'session-revoked': at(Date.now() - 5_000) };
    const subject = userSubject('gina');
    const forger = await generateSigningKey({ kid: 'ssf-1' }); // the trusted kid, untrusted key material
    const cases: [string, () => Promise<string>, string, string?][] = [
      ['signed by the wrong key', () => tx.mint({ subId: subject, events: revoke, key: forger }), 'invalid_key'],
      ['from another issuer', () => tx.mint({ subId: subject, events: revoke, issuer: 'https://evil.example' }), 'invalid_issuer'],
      ['for another audience', () => tx.mint({ subId: subject, events: revoke, audience: 'https://other.example/events' }), 'invalid_audience'],
      ['typed as an access token (typ JWT)', () => tx.mint({ subId: subject, events: revoke, typ: 'JWT' }), 'invalid_request'],
      ['with a top-level sub (an access token in disguise)', () => tx.mint({ subId: subject, events: revoke, extra: { sub: 'gina' } }), 'invalid_request'],
      ['with a top-level exp', () => tx.mint({ subId: subject, events: revoke, extra: { exp: Math.floor(Date.now() / 1000) + 600 } }), 'invalid_request'],
      ['that is not a JWS', async () => 'this-is-not-a-set', 'invalid_request'],
      ['sent with the wrong content type', () => tx.mint({ subId: subject, events: revoke }), 'invalid_request', 'application/json'],
    ];
    for (const [name, mint, err, contentType] of cases) {
      const res = await pushSet(eventsUrl, await mint(), contentType);
      expect({ name, status: res.status, err: res.json?.err }).toEqual({ name, status: 400, err });
      expect(res.json?.description).toBeTruthy();
    }
    const refusals = auditOfType(env.auditFile, 'event.received').filter((r) => r.accepted === false).map((r) => r.err);
    expect(refusals).toEqual(expect.arrayContaining(['invalid_key', 'invalid_issuer', 'invalid_audience', 'invalid_request']));
    const entries = async () => (await control.get<{ entries: { subject: unknown }[] }>('/revocations')).entries;
    expect(JSON.stringify(await entries())).not.toContain('gina');
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'unaffected' } })).isError).toBeFalsy();
    await agent.close();
  });

  it('acknowledges a replayed jti (202) without applying it again', async () => {
    const set = await tx.mint({ subId: userSubject('hank'), events: { 'session-revoked': at(Date.now() - 5_000) } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    const count = async () => (await control.get<{ entries: unknown[] }>('/revocations')).entries.length;
    const before = await count();
    const replay = await pushSet(eventsUrl, set);
    expect(replay.status).toBe(202);
    expect(await count()).toBe(before);
    const jti = (JSON.parse(Buffer.from(set.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
    const received = auditOfType(env.auditFile, 'event.received').filter((r) => r.eventId === jti);
    expect(received.map((r) => r.duplicate === true)).toEqual([false, true]);
    // hank signs in again after the event: the replay did not revoke the new token.
    const fresh = await warden.connect(await newToken('hank'));
    expect((await fresh.client.callTool({ name: 'echo', arguments: { message: 'new token' } })).isError).toBeFalsy();
    await fresh.close();
  });
});

describe('operators against a running HTTP warden (issue 7)', () => {
  it('warden sessions lists the HTTP session; warden revoke --user closes it and refuses older tokens', async () => {
    const agent = await warden.connect(await oldToken('ivan'));
    const sessionId = agent.transport.sessionId!;
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'hi' } })).isError).toBeFalsy();
    // No --url: the CLIs find the control API through the control-url file beside the admin token.
    const listed = await runWardenCli(['sessions', '--json', '--token-file', env.adminTokenFile]);
    expect(listed.status).toBe(0);
    const mine = (JSON.parse(listed.stdout) as { sessions: { sessionId: string }[] }).sessions.find((x) => x.sessionId === sessionId);
    expect(mine).toMatchObject({ transport: 'http', user: 'ivan', actor: 'agent-7', remoteAddress: '127.0.0.1' });

    const revoked = await runWardenCli(['revoke', '--user', 'ivan', '--json', '--token-file', env.adminTokenFile]);
    expect(revoked.status).toBe(0);
    expect(JSON.parse(revoked.stdout).sessionIds).toEqual([sessionId]);
    await expect(agent.client.callTool({ name: 'echo', arguments: { message: 'after' } })).rejects.toThrow(/401|unauthori[sz]ed|invalid_token/i);
    await agent.close().catch(() => undefined);
    // Older tokens are refused at the HTTP front: no new session with them.
    await expect(warden.connect(await oldToken('ivan'))).rejects.toThrow(/401|unauthori[sz]ed|invalid_token/i);
    expect(await staleRequest(await oldToken('ivan'), undefined, 'initialize')).toMatchObject({ status: 401, reason: 'token_revoked' });
    const audited = auditOfType(env.auditFile, 'revocation').find((r) => (r.subject as { user?: string }).user === 'ivan');
    expect(audited).toMatchObject({ by: 'admin:admin', sessionIds: [sessionId] });
  });
});

describe('the audit trail of the whole run', () => {
  it('verifies (hash chain and checkpoint) after warden stops', async () => {
    expect(await warden.stop()).toBe(0);
    const verified = await runWardenCli(['audit', 'verify', env.auditFile]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/^OK /m);
  });
});
