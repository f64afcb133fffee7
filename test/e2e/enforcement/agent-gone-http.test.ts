import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { createTestIdp, type TestIdp } from '../../helpers/enforcement-identity.js';
import { startHttpWarden, type HttpEnforcementWarden } from '../../helpers/enforcement-warden.js';
import { connectHttp, type ConnectedClient } from '../../helpers/mcp-clients.js';
import { until } from '../../helpers/progress.js';
import { WARDEN_MAIN } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * Agents that go away without saying so, over Streamable HTTP: the SDK client's close() aborts its
 * fetches and sends no DELETE, and a client that gave up on a call may never send its cancel.
 * A real warden in front of ACME (call log = what the upstream really received), real SDK agents
 * with bearer tokens, the control API as the approver.
 */
let w: HttpEnforcementWarden;
let idp: TestIdp;

beforeAll(async () => {
  const dir = tempDir('warden-e2e-gone-');
  idp = await createTestIdp(dir);
  w = await startHttpWarden({
    dir,
    sections: {
      identity: idp.section(),
      approvals: { timeoutMs: 30_000, progressIntervalMs: 1_000 },
      // One read per minute, and a wait bound above it: the second read waits in the throttle.
      throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 1, burst: 1 }], maxWaitMs: 120_000 },
      audit: { redact: { paths: ['payee'] } },
      listen: { stdio: false, http: { port: 0, maxSessionsPerPrincipal: 2, maxSessionsPerClient: 2 } },
    },
  });
}, 30_000);
afterAll(async () => w?.close());

/** An agent that will leave like the SDK's close() does: fetches aborted, no DELETE. */
async function agentOf(user: string, actor: string): Promise<ConnectedClient> {
  return connectHttp(w.url, { token: await idp.mint(user, actor), name: `${user}-${actor}` });
}

const upstreamCallsOf = (tool: string) => w.upstreamCalls().filter((c) => c.tool === tool);
const settle = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => e);

function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [WARDEN_MAIN, ...args, '--url', w.control.url, '--token-file', w.adminTokenFile], (err, stdout) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout });
    });
  });
}

describe('an HTTP agent that leaves without cancelling', () => {
  it('withdraws its pending approval when it closes the call\'s stream; a late approval forwards nothing', async () => {
    const agent = await agentOf('alice', 'agent-gone');
    const call = agent.client.callTool({ name: 'write_file', arguments: { path: '/gone/approval.txt', content: 'x' } });
    const settled = settle(call);
    const pending = await w.control.waitForPending((p) => (p.arguments as { path?: string }).path === '/gone/approval.txt', call);
    // What the reviewer's agent did after its request timeout: close() without cancel or DELETE.
    await agent.client.close();
    expect(await settled).not.toBe('resolved');
    await until(() => w.audit().some((r) => r.type === 'call.approval_withdrawn' && r.approvalId === pending.id), 8_000);
    expect(w.audit().find((r) => r.type === 'call.approval_withdrawn' && r.approvalId === pending.id)).toMatchObject({ reason: 'agent closed the response stream' });
    expect(await w.control.allow(pending.id)).toMatchObject({ status: 409, body: { error: 'already_decided' } });
    expect(upstreamCallsOf('write_file')).toEqual([]);
  });

  it('abandons its throttled wait when it closes the call\'s stream; the call never reaches the upstream', async () => {
    const agent = await agentOf('alice', 'agent-throttled');
    expectUpstreamText(await agent.client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.txt' } }), 'ACME internal docs');
    const waiting = settle(agent.client.callTool({ name: 'read_file', arguments: { path: '/docs/payroll.csv' } }));
    await until(() => w.audit().some((r) => r.type === 'call.received' && (r.args as { path?: string }).path === '/docs/payroll.csv'), 8_000);
    await agent.client.close();
    expect(await waiting).not.toBe('resolved');
    await until(() => w.audit().some((r) => r.type === 'call.throttle' && r.outcome === 'rejected' && r.reason === 'cancelled'), 8_000);
    expect(upstreamCallsOf('read_file').map((c) => c.arguments.path)).toEqual(['/docs/readme.txt']);
  });
});

describe('sessions of agents that went away', () => {
  it('closes the principal\'s unattended sessions to admit a new one instead of locking it out (audited)', async () => {
    // Two agents connect and leave without DELETE (maxSessionsPerPrincipal: 2)...
    for (let i = 0; i < 2; i += 1) await (await agentOf('carol', 'agent-1')).client.close();
    // ...and the third run of the same agent still gets in.
    const third = await agentOf('carol', 'agent-1');
    expect((await third.client.listTools()).tools.length).toBeGreaterThan(0);
    await until(() => w.audit().filter((r) => r.type === 'session.closed' && r.reason === 'evicted_for_new_session').length >= 1, 8_000);
    const evicted = w.audit().find((r) => r.type === 'session.closed' && r.reason === 'evicted_for_new_session');
    expect(evicted).toMatchObject({ principal: { user: 'carol', actor: 'agent-1' } });
    await third.close();
  });

  it('never evicts a live agent: with every session busy the new one is refused (429)', async () => {
    const busy = [await agentOf('dave', 'agent-1'), await agentOf('dave', 'agent-1')];
    const calls = busy.map((a, i) => settle(a.client.callTool({ name: 'write_file', arguments: { path: `/gone/busy-${i}.txt`, content: 'x' } })));
    for (let i = 0; i < 2; i += 1) await w.control.waitForPending((p) => (p.arguments as { path?: string }).path === `/gone/busy-${i}.txt`);
    await expect(agentOf('dave', 'agent-1')).rejects.toThrow(/429|too many open sessions/);
    expect(w.audit().some((r) => r.type === 'session.refused' && (r.principal as { user?: string }).user === 'dave')).toBe(true);
    for (const p of await w.control.pending()) await w.control.deny(p.id);
    await Promise.all(calls);
    await Promise.all(busy.map((a) => a.close()));
  });
});

describe('remembered grants and what approvers see', () => {
  it('shows the approver the real payee while the audit keeps it redacted; a grant covers only the approved agent', async () => {
    const agent7 = await agentOf('erin', 'agent-7');
    const rogue = await agentOf('erin', 'rogue-agent');
    const pay = (a: ConnectedClient, amount: number) => a.client.callTool({ name: 'transfer_funds', arguments: { amount, currency: 'EUR', payee: `NEW-PAYEE-${amount}` } });
    const first = pay(agent7, 10);
    const pending = await w.control.waitForPending((p) => p.tool === 'transfer_funds' && p.principal.actor === 'agent-7', first);
    expect(pending.arguments).toEqual({ amount: 10, currency: 'EUR', payee: 'NEW-PAYEE-10' });
    const shown = await cli(['approvals', 'show', pending.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('"payee": "NEW-PAYEE-10"');
    expect(shown.stdout).toContain('erin via agent-7');
    // Widening without remembering is refused as a usage error (exit 2), nothing is answered.
    expect((await cli(['approvals', 'allow', pending.id, '--any-agent'])).code).toBe(2);
    const allowed = await cli(['approvals', 'allow', pending.id, '--remember', '5']);
    expect(allowed.stdout).toContain('for erin via agent-7 (this agent only) · acme/transfer_funds · any arguments');
    expectUpstreamText(await first, 'transferred 10 EUR to NEW-PAYEE-10');
    expect(w.audit().find((r) => r.type === 'grant.created' && r.approvalId === pending.id)).toMatchObject({ user: 'erin', actor: 'agent-7', scope: 'principal' });
    // The approved agent rides on the grant...
    expectUpstreamText(await pay(agent7, 20), 'transferred 20 EUR to NEW-PAYEE-20');
    // ...a rogue agent holding a valid token for the same user does not: a human is asked.
    const stolen = pay(rogue, 4999);
    const asked = await w.control.waitForPending((p) => p.tool === 'transfer_funds' && p.principal.actor === 'rogue-agent', stolen);
    expect(asked.arguments).toMatchObject({ payee: 'NEW-PAYEE-4999' });
    await w.control.deny(asked.id, { reason: 'not you' });
    expectRefusal(await stolen, 'approval_denied');
    expect(upstreamCallsOf('transfer_funds').map((c) => c.arguments.amount)).toEqual([10, 20]);
    // Redaction is for the audit log: the payee never appears in it.
    expect(readFileSync(w.auditFile, 'utf8')).not.toContain('NEW-PAYEE');
    await agent7.close();
    await rogue.close();
  });
});
