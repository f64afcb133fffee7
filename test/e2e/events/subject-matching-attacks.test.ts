import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventsHttpWarden } from '../../helpers/events-warden.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { upstreamCalls, type IdentityEnv } from '../../helpers/identity-env.js';
import type { HttpWarden } from '../../helpers/identity-warden.js';
import { at, pushSet, userSubject, type Transmitter } from '../../helpers/events-sets.js';
import type { ControlApi } from '../../helpers/events-control.js';

/**
 * Revocations that miss a principal they name are security defects: each case below is a
 * revocation (security event or operator) that a running warden must apply to the next call of
 * a principal it covers. The warden runs with the documented defaults (no `identity.extraClaims`).
 */
type CallResult = { isError?: boolean; _meta?: Record<string, { reason?: string }> };
const reasonOf = (r: unknown) => (r as CallResult)._meta?.['dev.mcp-warden/decision']?.reason;

let env: IdentityEnv;
let tx: Transmitter;
let warden: HttpWarden;
let eventsUrl: string;
let control: ControlApi;

beforeAll(async () => {
  ({ env, tx, warden, eventsUrl, control } = await startEventsHttpWarden('warden-e2e-subj-'));
});
afterAll(async () => {
  await warden?.stop();
});

/** Connects with a token issued 10 s ago, checks one call passes, and returns a caller for "the next call". */
async function openSession(spec: Parameters<IdentityEnv['mint']>[0]) {
  const agent = await warden.connect(await env.mint({ ...spec, nowMs: Date.now() - 10_000 }));
  expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'before' } })).isError).toBeFalsy();
  return agent;
}

/** The next call after the revocation is refused as revoked and never reaches the upstream. */
async function expectRevoked(agent: Awaited<ReturnType<typeof openSession>>): Promise<void> {
  const before = upstreamCalls(env.callLog).length;
  const result = await agent.client.callTool({ name: 'echo', arguments: { message: 'after' } }).catch((err: unknown) => err);
  // An HTTP session of the subject may already be closed (404): that is a refusal too.
  if (!(result instanceof Error)) expect(reasonOf(result)).toBe('revoked');
  expect(upstreamCalls(env.callLog).length).toBe(before);
  await agent.close().catch(() => undefined);
}

describe('subject matching: a revocation reaches every principal it names', () => {
  it('an email subject revokes a user whose address is only in the token email claim (opaque sub)', async () => {
    const agent = await openSession({ user: '00u1001', actor: 'agent-7', claims: { email: 'Alice.Smith@acme.example' } });
    const set = await tx.mint({ subId: { format: 'email', email: 'alice.smith@acme.example' }, events: { 'session-revoked': at(Date.now() - 5_000) } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    await expectRevoked(agent);
  });

  it('a complex subject with a device revokes the user on that device (device only in the device_id claim)', async () => {
    const agent = await openSession({ user: '00u1002', claims: { device_id: 'laptop-9' } });
    const subId = { format: 'complex', user: userSubject('00u1002'), device: { format: 'opaque', id: 'laptop-9' } };
    const set = await tx.mint({ subId, events: { 'session-revoked': at(Date.now() - 5_000) } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    await expectRevoked(agent);
  });
});

describe('agent revocation: the revoked agent anywhere in the delegation chain', () => {
  it('a security event revoking an agent identity (iss_sub) refuses the tokens in which that agent acts for a user', async () => {
    const agent = await openSession({ user: 'paul', actor: 'agent-z' });
    const set = await tx.mint({ subId: userSubject('agent-z'), events: { 'credential-change': { credential_type: 'x509', change_type: 'revoke', ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    await expectRevoked(agent);
  });

  it('a claims change for an agent identity does not change the claims of the users it acts for', async () => {
    const agent = await openSession({ user: 'quinn', actor: 'agent-q' });
    const set = await tx.mint({ subId: userSubject('agent-q'), events: { 'token-claims-change': { claims: { account_status: 'suspended' }, ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'still quinn' } })).isError).toBeFalsy();
    await agent.close();
  });

  it('a security event revoking an agent identity of its own issuer (iss_sub with act.iss) refuses the tokens in which it acts', async () => {
    // The token is issued by the E2E issuer; the agent's identity lives in another namespace.
    const agent = await openSession({ user: 'rita', claims: { act: { sub: 'agent-r', iss: 'https://agents.b.test' } } });
    const set = await tx.mint({ subId: { format: 'iss_sub', iss: 'https://agents.b.test', sub: 'agent-r' }, events: { 'credential-change': { credential_type: 'x509', change_type: 'revoke', ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    await expectRevoked(agent);
  });

  it('revoking one issuer\'s agent does not revoke an agent with the same sub from another issuer', async () => {
    const other = await openSession({ user: 'sam', claims: { act: { sub: 'agent-s', iss: 'https://agents.b.test' } } });
    const revokedOne = await openSession({ user: 'sam', actor: 'agent-s' });
    // Revokes agent-s of the token issuer's namespace (the agent whose act names no issuer).
    const set = await tx.mint({ subId: userSubject('agent-s'), events: { 'credential-change': { credential_type: 'x509', change_type: 'revoke', ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    await expectRevoked(revokedOne);
    expect((await other.client.callTool({ name: 'echo', arguments: { message: 'still mine' } })).isError).toBeFalsy();
    await other.close();
  });

  it('warden revoke --agent refuses a token in which the revoked agent delegated to another agent (prior actor)', async () => {
    // planner-x (revoked) handed the task on to sub-agent: act = { sub: sub-agent, act: { sub: planner-x } }.
    const agent = await openSession({ user: 'nora', actor: 'sub-agent', chain: ['planner-x'] });
    const revoked = await control.post<{ sessionIds: string[] }>('/revoke', { agent: 'planner-x' });
    expect(revoked.status).toBe(200);
    await expectRevoked(agent);
  });
});

describe('revocation racing a call that waits for approval', () => {
  it('a call of a revoked token held for approval is withdrawn, never forwarded, though the session has since moved to a newer token', async () => {
    const oldToken = await env.mint({ user: 'olga', actor: 'agent-7', nowMs: Date.now() - 10_000 });
    const agent = await warden.connect(oldToken);
    const held = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 42 } });
    const pending = await control.waitPending('delete_record', 'olga');
    // The same agent, on the same session, now presents a token issued a moment ago.
    const newToken = await env.mint({ user: 'olga', actor: 'agent-7' });
    const next = await rawHttp(warden.url, {
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${newToken}`, 'mcp-session-id': agent.transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'echo', arguments: { message: 'new token' } } }),
    });
    expect(next.status).toBe(200);
    // The IdP revokes the session the old token belongs to (the event lies between the two tokens).
    const set = await tx.mint({ subId: userSubject('olga'), events: { 'session-revoked': at(Date.now() - 5_000) } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    // The held call ran as the revoked token: its approval is withdrawn at once (an approver's
    // allow could not send it out, it would be refused as revoked), and the agent hears now.
    const result = await held;
    expect(result.isError).toBe(true);
    expect(reasonOf(result)).toBe('approval_withdrawn');
    expect((await control.post(`/approvals/${pending.id}/allow`, {})).status).toBe(409);
    expect(upstreamCalls(env.callLog)).not.toContain('delete_record');
    await agent.close().catch(() => undefined);
  });
});
