import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { digestOf } from '../../src/core/canonical-json.js';
import { callRequest, decision, principal, principal as callPrincipal } from '../fixtures/enforce/call-fixtures.js';
import { makePrincipal } from '../helpers/principal-builder.js';
import type { Principal } from '../../src/core/principal.js';
import { admin, display, managerFixture } from '../fixtures/enforce/manager-fixture.js';
import { matchShape } from '../helpers/audit-field-spec.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';

/** Each principal's call is a new human question (no grant covers it); the question is withdrawn after. */
async function expectAskedAgain(f: ReturnType<typeof managerFixture>, principals: readonly Principal[]): Promise<void> {
  for (const principal of principals) {
    const asked = f.nextPending();
    const call = f.manager.request(callRequest({ principal }).req, decision(), display);
    await asked;
    f.manager.withdrawWhere(() => true, 'test over');
    expect(await call).toMatchObject({ kind: 'withdrawn' });
  }
}

/** `req` is not covered by a grant: it waits for a human (withdrawn here, so the test goes on). */
async function expectAsksAHuman(f: ReturnType<typeof managerFixture>, req: ReturnType<typeof callRequest>['req']): Promise<void> {
  const asked = f.nextPending();
  const outcome = f.manager.request(req, decision(), display);
  await asked;
  f.manager.withdrawWhere(() => true, 'next');
  expect(await outcome).toMatchObject({ kind: 'withdrawn' });
}

describe('approval manager', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds the call until an approver allows it once, and audits both steps', async () => {
    const f = managerFixture();
    const { req } = callRequest();
    const pending = f.nextPending();
    const outcome = f.manager.request(req, decision(), display);
    const id = await pending;
    const record = await f.manager.getPending(id);
    expect(record).toMatchObject({ callId: req.callId, tool: 'write_file', argsDigest: digestOf(req.arguments), policyHash: 'sha256:policy-v1' });
    expect(record?.arguments).toEqual(req.arguments);
    expect(record?.reasons).toEqual(display.reasons);
    expect(await f.manager.answer(id, { kind: 'allow_once' }, admin)).toMatchObject({ ok: true });
    expect(await outcome).toEqual({ kind: 'allowed', approvalId: id, approver: admin });
    expect(f.audit.types()).toEqual(['call.approval_requested', 'call.approval_answered']);
    expect(await f.manager.listPending()).toEqual([]);
    // Used once: a second answer to the same approval is refused.
    expect(await f.manager.answer(id, { kind: 'allow_once' }, admin)).toMatchObject({ ok: false, code: 'already_decided' });
  });

  it('passes a deny reason to the agent', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    await f.manager.answer(id, { kind: 'deny', reason: 'not on prod' }, admin);
    expect(await outcome).toMatchObject({ kind: 'denied', code: 'denied', reason: 'not on prod' });
  });

  it('denies at timeout (never allows) and sends progress while waiting', async () => {
    const f = managerFixture({ timeoutMs: 20_000, progressIntervalMs: 5_000 });
    const { req, progress } = callRequest({ withProgress: true });
    const outcome = f.manager.request(req, decision(), display);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await outcome).toMatchObject({ kind: 'timeout' });
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(progress[1]).toMatchObject({ progress: 5, total: 20, message: 'waiting for approval, 15 s left' });
    expect(f.audit.types()).toContain('call.approval_timeout');
    expect(f.events.map((e) => e.type)).toEqual(['requested', 'timeout']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reuses a remembered grant until it expires, then asks again', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const first = f.manager.request(callRequest().req, decision(), display);
    const answered = await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
    expect(answered).toMatchObject({ ok: true, grant: { user: 'alice', tool: 'write_file', argsDigest: undefined } });
    expect(await first).toMatchObject({ kind: 'allowed', grantId: expect.any(String) });
    const second = await f.manager.request(callRequest({ arguments: { path: '/other' } }).req, decision(), display);
    expect(second).toMatchObject({ kind: 'allowed_by_grant' });
    expect(await f.manager.listGrants()).toHaveLength(1);
    expect(f.audit.types()).toContain('grant.created');
    vi.setSystemTime(Date.now() + 600_001);
    const again = f.nextPending();
    const third = f.manager.request(callRequest().req, decision(), display);
    await again; // a new human question: the grant expired
    expect(await f.manager.listGrants()).toEqual([]);
    f.manager.close();
    expect(await third).toMatchObject({ kind: 'withdrawn' });
  });

  it('refuses a remembered grant for different arguments when bound to the arguments digest', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const first = f.manager.request(callRequest().req, decision(), display);
    await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: true }, admin);
    await first;
    expect(await f.manager.request(callRequest().req, decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    const asked = f.nextPending();
    const other = f.manager.request(callRequest({ arguments: { path: '/etc/passwd' } }).req, decision(), display);
    await asked;
    f.manager.withdrawWhere(() => true, 'test over');
    expect(await other).toMatchObject({ kind: 'withdrawn', reason: 'test over' });
  });

  it('a remembered approval of one resource read does not become a grant to read every URI of the upstream', async () => {
    const f = managerFixture();
    const read = (uri: string) => callRequest({ action: 'resources/read', tool: 'resources/read', exposedName: 'resources/read', arguments: { uri } }).req;
    const pending = f.nextPending();
    const first = f.manager.request(read('file:///reports/q3.pdf'), decision(), display);
    // What the console and `approvals allow --remember` send: nothing said about arguments.
    const answered = await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000 }, admin);
    expect(answered).toMatchObject({ ok: true, grant: { tool: 'resources/read', argsDigest: digestOf({ uri: 'file:///reports/q3.pdf' }) } });
    await first;
    expect(await f.manager.request(read('file:///reports/q3.pdf'), decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    const asked = f.nextPending();
    const other = f.manager.request(read('file:///hr/salaries.csv'), decision(), display);
    await asked; // another URI is a new question for a human
    f.manager.withdrawWhere(() => true, 'test over');
    expect(await other).toMatchObject({ kind: 'withdrawn' });
  });

  it('a remembered completion covers the next keystrokes of that argument, and no other argument or prompt (completion grants)', async () => {
    const f = managerFixture();
    const complete = (prompt: string, name: string, value: string, context?: Record<string, string>) =>
      callRequest({ action: 'completion/complete', tool: 'completion/complete', exposedName: 'completion/complete', arguments: { ref: { type: 'ref/prompt', name: prompt }, argument: { name, value }, ...(context ? { context: { arguments: context } } : {}) } }).req;
    const pending = f.nextPending();
    const first = f.manager.request(complete('lookup_customer', 'customer_id', 'ac'), decision(), display);
    expect(await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000 }, admin)).toMatchObject({ ok: true, grant: { tool: 'completion/complete', argsDigest: expect.any(String) } });
    await first;
    // The user types on: every further prefix of that argument is covered (they asked again per key).
    for (const value of ['acm', 'acme', 'acme-', 'x']) expect(await f.manager.request(complete('lookup_customer', 'customer_id', value), decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    // Another argument of the prompt, or the same argument name of another prompt, asks again.
    for (const other of [complete('lookup_customer', 'payee', 'ac'), complete('export_all', 'customer_id', 'ac')]) await expectAsksAHuman(f, other);
  });

  it('a remembered completion does not list what another context scopes (the same argument completed for another owner asks again)', async () => {
    const f = managerFixture();
    const complete = (value: string, context?: Record<string, string>) =>
      callRequest({ action: 'completion/complete', tool: 'completion/complete', exposedName: 'completion/complete', arguments: { ref: { type: 'ref/prompt', name: 'open_repo' }, argument: { name: 'repo', value }, ...(context ? { context: { arguments: context } } : {}) } }).req;
    const pending = f.nextPending();
    const first = f.manager.request(complete('we', { owner: 'alice' }), decision(), display);
    expect(await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000 }, admin)).toMatchObject({ ok: true });
    await first;
    // Typing on in that context is covered...
    expect(await f.manager.request(complete('web', { owner: 'alice' }), decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    // ...another owner's repositories, or none named, are a new question for a human.
    for (const other of [complete('we', { owner: 'bigcorp' }), complete('we')]) await expectAsksAHuman(f, other);
  });

  it('an approver who widens a read grant on purpose gets it for any URI, and a tool call left unsaid stays any-arguments', async () => {
    const f = managerFixture();
    const read = (uri: string) => callRequest({ action: 'resources/read', tool: 'resources/read', exposedName: 'resources/read', arguments: { uri } }).req;
    const pending = f.nextPending();
    const first = f.manager.request(read('file:///reports/q3.pdf'), decision(), display);
    expect(await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin)).toMatchObject({ ok: true, grant: { argsDigest: undefined } });
    await first;
    expect(await f.manager.request(read('file:///reports/q4.pdf'), decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });

    const toolPending = f.nextPending();
    const call = f.manager.request(callRequest({ tool: 'list_files', exposedName: 'fs.list_files' }).req, decision(), display);
    expect(await f.manager.answer(await toolPending, { kind: 'allow_remember', ttlMs: 600_000 }, admin)).toMatchObject({ ok: true, grant: { tool: 'list_files', argsDigest: undefined } });
    await call;
    expect(await f.manager.request(callRequest({ tool: 'list_files', exposedName: 'fs.list_files', arguments: { path: '/elsewhere' } }).req, decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
  });

  it('refuses a grant approved for one agent to a rogue agent of the same user', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const first = f.manager.request(callRequest().req, decision(), display);
    const answered = await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
    expect(answered).toMatchObject({ ok: true, grant: { user: 'alice', actor: 'agent-7', priorActors: ['planner'], scope: 'principal' } });
    await first;
    // The approved agent, the approved chain: covered.
    expect(await f.manager.request(callRequest().req, decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    // A token for alice via another agent (or the same agent under another delegation chain, or
    // alice acting directly) is asked again: the grant was for agent-7 acting for alice.
    await expectAskedAgain(f, [callPrincipal('alice', 'rogue-agent'), makePrincipal({ issuer: 'https://idp.example', user: 'alice', actor: 'agent-7', priorActors: ['other-planner'] }), makePrincipal({ issuer: 'https://idp.example', user: 'alice' })]);
    // The grant's scope is in its audit record.
    const created = f.audit.events.find((e) => e.type === 'grant.created')!;
    expect(created).toMatchObject({ user: 'alice', actor: 'agent-7', priorActors: ['planner'], scope: 'principal' });
    expect(matchShape(created)).toMatchObject({ ok: true });
  });

  it('refuses a grant approved for one agent app to another agent app of the same user (agents known by client_id, no act)', async () => {
    const f = managerFixture();
    // The usual MCP OAuth setup: each agent app gets alice's own token for its client, with no act.
    const app = (clientId: string) => makePrincipal({ issuer: 'https://idp.example', user: 'alice', clientId });
    const pending = f.nextPending();
    const first = f.manager.request(callRequest({ principal: app('mail-agent') }).req, decision(), display);
    expect(await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin)).toMatchObject({ ok: true, grant: { user: 'alice', actor: undefined, scope: 'principal' } });
    await first;
    // The audit says which client the grant covers.
    expect(f.audit.events.find((e) => e.type === 'grant.created')).toMatchObject({ clientId: 'mail-agent', scope: 'principal' });
    expect(await f.manager.request(callRequest({ principal: app('mail-agent') }).req, decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    // Another agent app of alice's, and alice's token without a client: asked again.
    await expectAskedAgain(f, [app('rogue-agent'), makePrincipal({ issuer: 'https://idp.example', user: 'alice' })]);
  });

  it('an agent with the same sub from another issuer does not inherit the grant approved for this one', async () => {
    const f = managerFixture();
    const agentOf = (actorIssuer: string | undefined, priorIssuer: string | null) =>
      makePrincipal({ issuer: 'https://idp.example', user: 'alice', actor: 'agent-7', actorIssuer, priorActors: ['planner'], priorActorIssuers: [priorIssuer] });
    const approved = agentOf('https://agents.a', 'https://agents.a');
    const pending = f.nextPending();
    const first = f.manager.request(callRequest({ principal: approved }).req, decision(), display);
    const answered = await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
    expect(answered).toMatchObject({ ok: true, grant: { actor: 'agent-7', actorIssuer: 'https://agents.a', priorActorIssuers: ['https://agents.a'] } });
    await first;
    // The same agent (same issuer, same chain) with a fresh token: covered.
    expect(await f.manager.request(callRequest({ principal: agentOf('https://agents.a', 'https://agents.a') }).req, decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    // agent-7 of a co-tenant namespace, agent-7 whose token names no issuer, and the approved
    // agent under a planner of another namespace: each is asked again.
    await expectAskedAgain(f, [agentOf('https://agents.b', 'https://agents.a'), agentOf(undefined, 'https://agents.a'), agentOf('https://agents.a', 'https://agents.b'), agentOf('https://agents.a', null)]);
    const created = f.audit.events.find((e) => e.type === 'grant.created')!;
    expect(created).toMatchObject({ actor: 'agent-7', actorIssuer: 'https://agents.a', priorActorIssuers: ['https://agents.a'] });
    expect(matchShape(created)).toMatchObject({ ok: true });
  });

  it('covers every agent of the user only when the approver widened the grant to the user', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const first = f.manager.request(callRequest().req, decision(), display);
    await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false, scope: 'user' }, admin);
    await first;
    expect(await f.manager.request(callRequest({ principal: callPrincipal('alice', 'other-agent') }).req, decision(), display)).toMatchObject({ kind: 'allowed_by_grant' });
    // Never another user.
    const asked = f.nextPending();
    const bob = f.manager.request(callRequest({ principal: callPrincipal('bob', 'agent-7') }).req, decision(), display);
    await asked;
    f.manager.close();
    expect(await bob).toMatchObject({ kind: 'withdrawn' });
    expect(f.audit.events.find((e) => e.type === 'grant.created')).toMatchObject({ scope: 'user', actor: 'agent-7' });
  });

  it('revokes a grant so later calls ask again', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const first = f.manager.request(callRequest().req, decision(), display);
    const r = await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
    await first;
    const grantId = r.ok ? r.grant?.id : undefined;
    expect(await f.manager.revokeGrant(grantId ?? '', admin)).toMatchObject({ id: grantId });
    expect(f.audit.types()).toContain('grant.revoked');
    expect(await f.manager.findGrant(callRequest().req, decision().policyHash)).toBeUndefined();
  });

  it('a grant remembered under the old policy cannot approve a call the reloaded policy asks about', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const first = f.manager.request(callRequest().req, decision(), display);
    await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
    await first;
    expect(f.audit.events.find((e) => e.type === 'grant.created')).toMatchObject({ policyHash: 'sha256:policy-v1' });
    // Same principal, tool and arguments, but decided under another policy version: a human is asked.
    const asked = f.nextPending();
    const underNewPolicy = f.manager.request(callRequest().req, decision({ policyHash: 'sha256:policy-v2' }), display);
    await asked;
    expect(await f.manager.findGrant(callRequest().req, 'sha256:policy-v2')).toBeUndefined();
    expect(await f.manager.findGrant(callRequest().req, 'sha256:policy-v1')).toBeDefined();
    f.manager.close();
    expect(await underNewPolicy).toMatchObject({ kind: 'withdrawn' });
  });

  it('retires the grants of a replaced policy version, audited as revoked by warden for policy_changed', async () => {
    const f = managerFixture();
    for (const [policyHash, path] of [['sha256:policy-v1', '/a'], ['sha256:policy-v2', '/b']] as const) {
      const pending = f.nextPending();
      const call = f.manager.request(callRequest({ arguments: { path } }).req, decision({ policyHash }), display);
      await f.manager.answer(await pending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
      await call;
    }
    expect(await f.manager.listGrants()).toHaveLength(2);
    expect(await f.manager.retireGrantsNotUnder('sha256:policy-v2')).toBe(1);
    expect((await f.manager.listGrants()).map((g) => g.policyHash)).toEqual(['sha256:policy-v2']);
    const revoked = f.audit.events.filter((e) => e.type === 'grant.revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ by: 'policy-reload', approver: { kind: 'system', id: 'policy-reload' }, reason: 'policy_changed' });
    expect(matchShape(revoked[0]!)).toMatchObject({ ok: true });
    // Nothing left to retire under the same version.
    expect(await f.manager.retireGrantsNotUnder('sha256:policy-v2')).toBe(0);
  });

  it('withdraws a pending approval when the agent cancels', async () => {
    const f = managerFixture();
    const c = callRequest();
    const pending = f.nextPending();
    const outcome = f.manager.request(c.req, decision(), display);
    const id = await pending;
    c.abort.abort();
    expect(await outcome).toMatchObject({ kind: 'withdrawn', approvalId: id });
    expect(f.events.at(-1)).toMatchObject({ type: 'withdrawn' });
    expect(f.audit.types()).toContain('call.approval_withdrawn');
    expect(await f.manager.answer(id, { kind: 'allow_once' }, admin)).toMatchObject({ ok: false, code: 'already_decided' });
  });

  it('records why the call was withdrawn (the proxy\'s abort reason, bounded)', async () => {
    const f = managerFixture();
    const c = callRequest();
    const pending = f.nextPending();
    const outcome = f.manager.request(c.req, decision(), display);
    await pending;
    c.abort.abort('agent closed the response stream');
    expect(await outcome).toMatchObject({ kind: 'withdrawn', reason: 'agent closed the response stream' });
    expect(f.audit.events.find((e) => e.type === 'call.approval_withdrawn')).toMatchObject({ reason: 'agent closed the response stream' });
    const long = callRequest();
    const next = f.nextPending();
    const second = f.manager.request(long.req, decision(), display);
    await next;
    long.abort.abort('x'.repeat(10_000));
    expect(((await second) as { reason: string }).reason.length).toBeLessThanOrEqual(201);
  });

  it('lets exactly one of two racing approvers win', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    const results = await Promise.all([
      f.manager.answer(id, { kind: 'allow_once' }, { kind: 'approver', id: 'carol' }),
      f.manager.answer(id, { kind: 'deny' }, { kind: 'approver', id: 'dave' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([expect.objectContaining({ code: 'already_decided' })]);
    expect(await outcome).toMatchObject({ kind: 'allowed', approver: { id: 'carol' } });
  });

  it('refuses an approval replayed for a different arguments digest', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    const replay = await f.manager.answer(id, { kind: 'allow_once' }, admin, { argsDigest: digestOf({ path: '/other' }) });
    expect(replay).toMatchObject({ ok: false, code: 'binding_mismatch' });
    const wrongPolicy = await f.manager.answer(id, { kind: 'allow_once' }, admin, { policyHash: 'sha256:old' });
    expect(wrongPolicy).toMatchObject({ ok: false, code: 'binding_mismatch' });
    // The refusal did not consume the approval; the right binding still works.
    const record = await f.manager.getPending(id);
    expect(await f.manager.answer(id, { kind: 'allow_once' }, admin, { argsDigest: record?.argsDigest })).toMatchObject({ ok: true });
    expect(await outcome).toMatchObject({ kind: 'allowed' });
  });

  it('refuses self-approval by an approver identified as the calling user', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    expect(await f.manager.answer(id, { kind: 'allow_once' }, { kind: 'approver', id: 'alice' })).toMatchObject({ ok: false, code: 'self_approval' });
    expect(await f.manager.answer(id, { kind: 'allow_once' }, { kind: 'approver', id: 'carol' })).toMatchObject({ ok: true });
    await outcome;
  });

  it('refuses an agent approving its own call: an approver identified as the acting agent or a prior actor', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    // alice via agent-7 ← planner: an approver credential named for either agent is a party to the call.
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    for (const party of ['agent-7', 'planner']) {
      expect(await f.manager.answer(id, { kind: 'allow_once' }, { kind: 'approver', id: party })).toMatchObject({ ok: false, code: 'self_approval' });
      expect(await f.manager.answer(id, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false, scope: 'user' }, { kind: 'approver', id: party })).toMatchObject({ ok: false, code: 'self_approval' });
    }
    // Refusals do not consume the request: a human who is not a party still decides.
    expect(await f.manager.answer(id, { kind: 'allow_once' }, { kind: 'approver', id: 'carol' })).toMatchObject({ ok: true });
    expect(await outcome).toMatchObject({ kind: 'allowed', approver: { id: 'carol' } });
  });

  it('refuses an agent approving its own call when the token names it only as the client (client_id, no act)', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    // A user token the agent's own OAuth client obtained: the agent is its client_id, not an actor.
    const outcome = f.manager.request(callRequest({ principal: makePrincipal({ issuer: 'https://idp.example', user: 'alice', clientId: 'agent-7' }) }).req, decision(), display);
    const id = await pending;
    expect(await f.manager.answer(id, { kind: 'allow_once' }, { kind: 'approver', id: 'agent-7' })).toMatchObject({ ok: false, code: 'self_approval' });
    expect(await f.manager.answer(id, { kind: 'allow_once' }, { kind: 'approver', id: 'carol' })).toMatchObject({ ok: true });
    expect(await outcome).toMatchObject({ kind: 'allowed', approver: { id: 'carol' } });
  });

  it('denies new requests when the pending queue is full', async () => {
    const f = managerFixture({ maxPending: 1 });
    const pending = f.nextPending();
    const first = f.manager.request(callRequest().req, decision(), display);
    await pending;
    expect(await f.manager.request(callRequest().req, decision(), display)).toMatchObject({ kind: 'denied', code: 'unavailable' });
    // Audited as a documented call.approval_answered: warden itself said no, nobody was asked.
    const answered = f.audit.events.filter((e) => e.type === 'call.approval_answered').at(-1)!;
    expect(answered).toMatchObject({ approved: false, by: 'warden', how: 'queue_full', outcome: 'unavailable' });
    expect(matchShape(answered)).toMatchObject({ ok: true });
    f.manager.close();
    await first;
  });

  it('a burst of simultaneous requests cannot get past maxPending (flooding the approvers)', async () => {
    const f = managerFixture({ maxPending: 2 });
    const outcomes = Array.from({ length: 10 }, () => f.manager.request(callRequest().req, decision(), display));
    await vi.advanceTimersByTimeAsync(0);
    const pending = (await f.manager.listPending()).length;
    f.manager.close();
    expect(pending).toBe(2);
    const kinds = (await Promise.all(outcomes)).map((o) => (o.kind === 'denied' ? o.code : o.kind));
    expect(kinds.filter((k) => k === 'unavailable')).toHaveLength(8);
    expect(kinds.filter((k) => k === 'withdrawn')).toHaveLength(2);
  });

  it('one agent cannot fill the approval queue for every other principal (maxPendingPerPrincipal)', async () => {
    const f = managerFixture({ maxPending: 10, maxPendingPerPrincipal: 3 });
    // A looping agent asks for approvals as fast as it can: only its own share is held.
    const flood = Array.from({ length: 8 }, () => f.manager.request(callRequest().req, decision(), display));
    await vi.advanceTimersByTimeAsync(0);
    expect(await f.manager.listPending()).toHaveLength(3);
    const floodKinds = (await Promise.all(flood.slice(3))).map((o) => (o.kind === 'denied' ? o.code : o.kind));
    expect(floodKinds).toEqual(Array(5).fill('unavailable'));
    const refusal = f.audit.events.filter((e) => e.type === 'call.approval_answered').at(-1)!;
    expect(refusal).toMatchObject({ approved: false, by: 'warden', how: 'queue_full', outcome: 'unavailable' });
    // Another user's call (and the same user through another agent) still reaches a human.
    const bob = f.nextPending();
    const bobCall = f.manager.request(callRequest({ principal: principal('bob', 'agent-9') }).req, decision(), display);
    await bob;
    const other = f.nextPending();
    const otherAgent = f.manager.request(callRequest({ principal: principal('alice', 'agent-8') }).req, decision(), display);
    await other;
    expect(await f.manager.listPending()).toHaveLength(5);
    // Once one of the agent's requests is answered, its share frees up again.
    const first = (await f.manager.listPending())[0]!;
    await f.manager.answer(first.id, { kind: 'deny' }, admin);
    const again = f.nextPending();
    const retry = f.manager.request(callRequest().req, decision(), display);
    await again;
    f.manager.close();
    await Promise.all([...flood.slice(0, 3), bobCall, otherAgent, retry]);
  });

  it('one user with many agents cannot fill the approval queue for every other user (maxPendingPerUser)', async () => {
    const f = managerFixture({ maxPending: 10, maxPendingPerPrincipal: 2, maxPendingPerUser: 4 });
    // Alice's calls through five agents, two each: each agent stays within its own share, but
    // together they would take the whole queue.
    const flood = Array.from({ length: 10 }, (_, i) => f.manager.request(callRequest({ principal: principal('alice', `agent-${i % 5}`) }).req, decision(), display));
    await vi.advanceTimersByTimeAsync(0);
    expect(await f.manager.listPending()).toHaveLength(4);
    const kinds = (await Promise.all(flood.slice(4))).map((o) => (o.kind === 'denied' ? o.code : o.kind));
    expect(kinds).toEqual(Array(6).fill('unavailable'));
    const refusal = f.audit.events.filter((e) => e.type === 'call.approval_answered').at(-1)!;
    expect(refusal).toMatchObject({ how: 'queue_full', reason: 'more than 4 approvals pending for this user' });
    // Bob still reaches a human.
    const bob = f.nextPending();
    const bobCall = f.manager.request(callRequest({ principal: principal('bob', 'agent-9') }).req, decision(), display);
    await bob;
    expect(await f.manager.listPending()).toHaveLength(5);
    f.manager.close();
    await Promise.all([...flood.slice(0, 4), bobCall]);
  });

  it('a flood of approval requests the agent cancels evicts no other state (burst baselines, grants)', async () => {
    const store = new MemoryStateStore({ maxEntries: 50 });
    const f = managerFixture({}, store);
    // Another principal's burst baseline and a live grant, in the store every stage shares.
    await store.set('sig:burst:bob', { ewma: 3 });
    const grantPending = f.nextPending();
    const granted = f.manager.request(callRequest().req, decision(), display);
    await f.manager.answer(await grantPending, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
    await granted;
    // The agent asks and cancels, again and again: each request leaves records behind in the store.
    for (let i = 0; i < 200; i++) {
      const c = callRequest({ principal: principal('alice', 'agent-flood') });
      const outcome = f.manager.request(c.req, decision(), display);
      await vi.advanceTimersByTimeAsync(0);
      c.abort.abort();
      expect(await outcome).toMatchObject({ kind: 'withdrawn' });
    }
    expect(await store.get('sig:burst:bob')).toEqual({ ewma: 3 });
    expect(await f.manager.listGrants()).toHaveLength(1);
  });

  it('withdraws an already-cancelled call right away', async () => {
    const f = managerFixture();
    const c = callRequest();
    c.abort.abort();
    expect(await f.manager.request(c.req, decision(), display)).toMatchObject({ kind: 'withdrawn' });
  });

  it('does not forward an allow it could not audit', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    f.audit.fail = true;
    await f.manager.answer(id, { kind: 'allow_once' }, admin);
    expect(await outcome).toMatchObject({ kind: 'denied', code: 'unavailable' });
  });

  it('an allow-and-remember it could not audit leaves no grant behind to allow later calls', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    f.audit.fail = true;
    await f.manager.answer(id, { kind: 'allow_remember', ttlMs: 3_600_000, matchArguments: false }, admin);
    expect(await outcome).toMatchObject({ kind: 'denied', code: 'unavailable' });
    // The sink recovers: a grant nobody could audit (no grant.created) must not answer for the next call.
    f.audit.fail = false;
    expect(await f.manager.listGrants()).toEqual([]);
    const next = f.manager.request(callRequest().req, decision(), display);
    await vi.advanceTimersByTimeAsync(0);
    expect(await f.manager.listPending()).toHaveLength(1);
    f.manager.close();
    expect(await next).toMatchObject({ kind: 'withdrawn' });
  });

  it('still settles the call when the state store fails mid-answer (never hangs, never remembers)', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const outcome = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    f.store.set = async () => {
      throw new Error('store down');
    };
    f.store.setIfAbsent = async () => {
      throw new Error('store down');
    };
    expect(await f.manager.answer(id, { kind: 'allow_remember', ttlMs: 60_000, matchArguments: false }, admin)).toMatchObject({ ok: true });
    expect(await outcome).toMatchObject({ kind: 'allowed' });
    expect((await outcome as { grantId?: string }).grantId).toBeUndefined();
  });

  it('withdrawWhere withdraws only the matching requests (e.g. a revoked session)', async () => {
    const f = managerFixture();
    let pending = f.nextPending();
    const keep = f.manager.request(callRequest().req, decision(), display);
    await pending;
    pending = f.nextPending();
    const revoked = f.manager.request(callRequest({ sessionId: 'sess-revoked' }).req, decision(), display);
    await pending;
    expect(f.manager.withdrawWhere((p) => p.sessionId === 'sess-revoked', 'session revoked')).toBe(1);
    expect(await revoked).toMatchObject({ kind: 'withdrawn', reason: 'session revoked' });
    expect((await f.manager.listPending()).map((p) => p.sessionId)).toEqual(['sess-1']);
    f.manager.close();
    expect(await keep).toMatchObject({ kind: 'withdrawn' });
  });

  it('a withdrawal whose filter throws withdraws the request, audited (a human asked about a call a revocation may cover)', async () => {
    const f = managerFixture();
    const pending = f.nextPending();
    const call = f.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    const broken = (): boolean => {
      throw new Error('subject match failed');
    };
    expect(f.manager.withdrawWhere(broken, 'revoked')).toBe(1);
    expect(await call).toMatchObject({ kind: 'withdrawn', reason: 'revoked' });
    expect(await f.manager.listPending()).toEqual([]);
    expect(f.audit.events.filter((e) => e.type === 'call.approval_withdrawn')).toEqual([expect.objectContaining({ approvalId: id, reason: 'revoked' })]);
    // Nobody can allow it any more.
    expect(await f.manager.answer(id, { kind: 'allow_once' }, admin)).toMatchObject({ ok: false, code: 'already_decided' });
  });
});
