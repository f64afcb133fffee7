import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createControlClient, type ControlClient } from '../../src/control/control-client.js';
import { digestOf } from '../../src/core/canonical-json.js';
import { enforceDecision } from '../../src/enforce/enforce-decision.js';
import { createThrottler } from '../../src/enforce/throttler.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { ALICE_TOKEN, CAROL_TOKEN, controlFixture } from '../fixtures/enforce/control-fixture.js';
import { callRequest, decision, principal } from '../fixtures/enforce/call-fixtures.js';
import { display } from '../fixtures/enforce/manager-fixture.js';

type Fixture = Awaited<ReturnType<typeof controlFixture>>;
let fx: Fixture | undefined;
afterEach(async () => {
  fx?.manager.close();
  await fx?.server.close();
  fx = undefined;
});

async function start(approvals?: Record<string, unknown>): Promise<Fixture & { admin: ControlClient; carol: ControlClient; alice: ControlClient }> {
  fx = await controlFixture({ approvals });
  const token = readFileSync(fx.tokenFile, 'utf8').trim();
  return {
    ...fx,
    admin: createControlClient({ url: fx.server.url, token }),
    carol: createControlClient({ url: fx.server.url, token: CAROL_TOKEN }),
    alice: createControlClient({ url: fx.server.url, token: ALICE_TOKEN }),
  };
}

/** A scripted approver: waits for the next pending approval as listed by the API. */
async function pendingIds(client: ControlClient, count = 1): Promise<string[]> {
  for (;;) {
    const r = await client.request('GET', '/approvals');
    const list = (r.body as { approvals: { id: string }[] }).approvals;
    if (list.length >= count) return list.map((a) => a.id);
    await new Promise((res) => setTimeout(res, 10));
  }
}

describe('approvals over the control API', () => {
  it('approve: the scripted approver allows once and the call is forwarded', async () => {
    const f = await start();
    const verdict = enforceDecision(callRequest().req, decision(), { throttler: createThrottler(ThrottleConfigSchema.parse({})), approvals: f.manager, audit: f.audit });
    const [id] = await pendingIds(f.carol);
    const shown = await f.carol.request('GET', `/approvals/${id}`);
    // The approver decides on this very call: it sees the real values (authenticated API only);
    // the audit keeps the digest and never the values.
    expect(shown.body).toMatchObject({ principal: { user: 'alice', actor: 'agent-7' }, tool: 'write_file', score: 72, arguments: { path: '/tmp/x', content: 'secret-content' } });
    expect(JSON.stringify(f.audit.events)).not.toContain('secret-content');
    expect(await f.carol.request('POST', `/approvals/${id}/allow`, { argsDigest: (shown.body as { argsDigest: string }).argsDigest })).toMatchObject({ status: 200 });
    expect((await verdict).kind).toBe('forward');
    expect(f.audit.events.find((e) => e.type === 'call.approval_answered')).toMatchObject({ approver: { kind: 'approver', id: 'carol' } });
  });

  it('deny: the reason reaches the agent', async () => {
    const f = await start();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const [id] = await pendingIds(f.admin);
    expect(await f.admin.request('POST', `/approvals/${id}/deny`, { reason: 'not now' })).toMatchObject({ status: 200 });
    expect(await outcome).toMatchObject({ kind: 'denied', reason: 'not now', approver: { kind: 'admin' } });
  });

  it('two approvers racing for one request: exactly one wins, the other gets 409 already_decided', async () => {
    const f = await start();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const [id] = await pendingIds(f.admin);
    const [a, b] = await Promise.all([f.carol.request('POST', `/approvals/${id}/allow`, {}), f.admin.request('POST', `/approvals/${id}/deny`, {})]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body).toMatchObject({ error: 'already_decided' });
    expect((await outcome).kind).toBe(a.status === 200 ? 'allowed' : 'denied');
  });

  it('refuses an approval replayed for a different argument digest (409 binding_mismatch)', async () => {
    const f = await start();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const [id] = await pendingIds(f.admin);
    const r = await f.admin.request('POST', `/approvals/${id}/allow`, { argsDigest: digestOf({ path: '/tmp/x', content: 'other' }) });
    expect(r).toMatchObject({ status: 409, body: { error: 'binding_mismatch' } });
    expect(await f.manager.listPending()).toHaveLength(1);
    f.manager.close();
    expect((await outcome).kind).toBe('withdrawn');
  });

  it('refuses self-approval: approver alice cannot approve alice\'s call (403 self_approval)', async () => {
    const f = await start();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const [id] = await pendingIds(f.alice);
    expect(await f.alice.request('POST', `/approvals/${id}/allow`, {})).toMatchObject({ status: 403, body: { error: 'self_approval' } });
    expect(await f.carol.request('POST', `/approvals/${id}/allow`, {})).toMatchObject({ status: 200 });
    expect((await outcome).kind).toBe('allowed');
  });

  it('remember: the grant is listed, reused, and revocable over the API', async () => {
    const f = await start();
    const first = f.manager.request(callRequest().req, decision(), display);
    const [id] = await pendingIds(f.admin);
    const r = await f.admin.request('POST', `/approvals/${id}/allow`, { rememberMinutes: 10 });
    // Narrow unless asked: this user through this agent chain only.
    expect(r).toMatchObject({ status: 200, body: { grant: { user: 'alice', actor: 'agent-7', priorActors: ['planner'], scope: 'principal', tool: 'write_file' } } });
    await first;
    const grants = (await f.admin.request('GET', '/grants')).body as { grants: { id: string; expiresAt: number; createdAt: number }[] };
    expect(grants.grants).toHaveLength(1);
    expect(grants.grants[0]!.expiresAt - grants.grants[0]!.createdAt).toBe(600_000);
    expect((await f.manager.request(callRequest().req, decision(), display)).kind).toBe('allowed_by_grant');
    expect(await f.admin.request('DELETE', `/grants/${grants.grants[0]!.id}`)).toMatchObject({ status: 200 });
    expect(await f.admin.request('DELETE', `/grants/${grants.grants[0]!.id}`)).toMatchObject({ status: 404 });
    expect(await f.manager.findGrant(callRequest().req, decision().policyHash)).toBeUndefined();
  });

  it('remember with rememberScope "user" widens the grant to every agent of the user, explicitly', async () => {
    const f = await start();
    const first = f.manager.request(callRequest().req, decision(), display);
    const [id] = await pendingIds(f.admin);
    const r = await f.admin.request('POST', `/approvals/${id}/allow`, { rememberMinutes: 10, rememberScope: 'user' });
    expect(r).toMatchObject({ status: 200, body: { grant: { user: 'alice', scope: 'user' } } });
    await first;
    expect((await f.manager.request(callRequest({ principal: principal('alice', 'another-agent') }).req, decision(), display)).kind).toBe('allowed_by_grant');
    expect(await f.admin.request('POST', `/approvals/x/allow`, { rememberMinutes: 10, rememberScope: 'everyone' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('rejects malformed answers with 400', async () => {
    const f = await start();
    void f.manager.request(callRequest().req, decision(), display);
    const [id] = await pendingIds(f.admin);
    expect(await f.admin.request('POST', `/approvals/${id}/allow`, { rememberMinutes: -5 })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('SSE stream delivers new pending requests and their resolution (incl. timeout)', async () => {
    const f = await start({ timeoutMs: 1_000 });
    const ac = new AbortController();
    const events: { event: string; data: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    let seen: () => void = () => {};
    const streaming = f.carol.stream('/approvals/stream', (event, data) => {
      events.push({ event, data });
      seen();
    }, ac.signal);
    const waitFor = (pred: () => boolean) =>
      new Promise<void>((resolve) => {
        seen = () => pred() && resolve();
        if (pred()) resolve();
      });
    const { req } = callRequest();
    const outcome = f.manager.request(req, decision(), display);
    await waitFor(() => events.some((e) => e.event === 'pending'));
    const pending = events.find((e) => e.event === 'pending')!.data;
    expect(pending).toMatchObject({ callId: req.callId, principal: { user: 'alice' }, expiresInMs: expect.any(Number) });
    expect(await outcome).toMatchObject({ kind: 'timeout' });
    await waitFor(() => events.some((e) => e.event === 'resolved'));
    expect(events.find((e) => e.event === 'resolved')!.data).toEqual({ id: pending.id, outcome: 'timeout' });
    ac.abort();
    await streaming;
  });
});
