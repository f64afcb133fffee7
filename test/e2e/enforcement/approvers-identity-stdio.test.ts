import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { createTestIdp, TEST_ISSUER, writeSecret } from '../../helpers/enforcement-identity.js';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * Authenticated approvers through the real warden over stdio with a verified identity: the agent
 * runs as alice via agent-7 (a JWT from a local IdP, `identity.token.file`), and two named
 * approvers are configured: carol, and alice herself (who must never approve her own calls).
 */
let w: EnforcementWarden;
let carol: string;
let aliceApprover: string;
let agentToken: string;

beforeAll(async () => {
  const dir = tempDir('warden-e2e-enf-');
  const idp = await createTestIdp(dir);
  agentToken = await idp.mint('alice', 'agent-7');
  writeSecret(dir, 'agent.jwt', agentToken);
  carol = writeSecret(dir, 'carol.token').value;
  aliceApprover = writeSecret(dir, 'alice.token').value;
  w = await startStdioWarden({
    dir,
    sections: {
      identity: idp.section({ token: { file: 'agent.jwt' } }),
      approvals: { timeoutMs: 30_000, approvers: [{ id: 'carol', tokenFile: 'carol.token' }, { id: 'alice', tokenFile: 'alice.token' }] },
    },
  });
});
afterAll(async () => w?.close());

const write = (path: string) => w.client.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
const forPath = (path: string) => (p: { arguments: unknown }) => (p.arguments as { path?: string }).path === path;
const writesTo = (path: string) => w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path);

describe('named approvers and self-approval over stdio with identity', () => {
  it('shows who is asking, and records the named approver who allowed the call', async () => {
    const call = write('/e2e/carol-allows.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/carol-allows.txt'), call);
    expect(pending.principal).toMatchObject({ issuer: TEST_ISSUER, user: 'alice', actor: 'agent-7' });
    expect(await w.control.allow(pending.id, {}, carol)).toMatchObject({ status: 200, body: { ok: true } });
    expectUpstreamText(await call, 'wrote 1 bytes to /e2e/carol-allows.txt');
    const records = w.audit().filter((r) => r.callId === pending.callId);
    expect(records.find((r) => r.type === 'call.received')).toMatchObject({ principal: expect.objectContaining({ user: 'alice', actor: 'agent-7' }) });
    expect(records.find((r) => r.type === 'call.approval_requested')).toMatchObject({ approvalId: pending.id, argsDigest: pending.argsDigest });
    expect(records.find((r) => r.type === 'call.approval_answered')).toMatchObject({ approvalId: pending.id, outcome: 'allow_once', approver: { kind: 'approver', id: 'carol' } });
  });

  it('refuses an approver answering a call made as themselves (self_approval); the call stays held', async () => {
    const call = write('/e2e/self.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/self.txt'), call);
    expect(await w.control.allow(pending.id, {}, aliceApprover)).toMatchObject({ status: 403, body: { error: 'self_approval' } });
    expect(await w.control.allow(pending.id, { rememberMinutes: 60 }, aliceApprover)).toMatchObject({ status: 403, body: { error: 'self_approval' } });
    expect((await w.control.request('GET', `/approvals/${pending.id}`)).status).toBe(200);
    expect(writesTo('/e2e/self.txt')).toEqual([]);
    expect(await w.control.grants()).toEqual([]);
    expect((await w.control.deny(pending.id, { reason: 'no self-service' }, carol)).status).toBe(200);
    expect(expectRefusal(await call, 'approval_denied')).toMatchObject({ approver: 'carol', approvalId: pending.id });
    expect(writesTo('/e2e/self.txt')).toEqual([]);
  });

  it('refuses the agent\'s own access token as an approval credential', async () => {
    const call = write('/e2e/agent-token.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/agent-token.txt'), call);
    // The agent can read its token and the control URL on this machine: it must not approve itself.
    expect((await w.control.allow(pending.id, {}, agentToken)).status).toBe(401);
    expect((await w.control.request('GET', '/approvals', undefined, agentToken)).status).toBe(401);
    expect((await w.control.request('GET', `/approvals/${pending.id}`)).status).toBe(200);
    expect(writesTo('/e2e/agent-token.txt')).toEqual([]);
    expect((await w.control.deny(pending.id)).status).toBe(200);
    expectRefusal(await call, 'approval_denied');
    expect(writesTo('/e2e/agent-token.txt')).toEqual([]);
  });

  it('lets exactly one of two approvers racing for one request win', async () => {
    const call = write('/e2e/two-approvers.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/two-approvers.txt'), call);
    const [byCarol, byAdmin] = await Promise.all([w.control.allow(pending.id, {}, carol), w.control.deny(pending.id, { reason: 'admin says no' })]);
    expect([byCarol.status, byAdmin.status].sort()).toEqual([200, 409]);
    const loser = byCarol.status === 409 ? byCarol : byAdmin;
    expect(loser.body).toMatchObject({ error: 'already_decided' });
    const answered = w.audit().filter((r) => r.type === 'call.approval_answered' && r.approvalId === pending.id);
    expect(answered).toHaveLength(1);
    const result = await call;
    if (byCarol.status === 200) {
      expect(answered[0]).toMatchObject({ outcome: 'allow_once', approver: { kind: 'approver', id: 'carol' } });
      expectUpstreamText(result, 'wrote 1 bytes to /e2e/two-approvers.txt');
      expect(writesTo('/e2e/two-approvers.txt')).toHaveLength(1);
    } else {
      expect(answered[0]).toMatchObject({ outcome: 'deny', approver: { kind: 'admin', id: 'admin' } });
      expectRefusal(result, 'approval_denied');
      expect(writesTo('/e2e/two-approvers.txt')).toEqual([]);
    }
  });

  it('keeps approvers off admin routes (403 forbidden_role)', async () => {
    expect(await w.control.request('GET', '/sessions', undefined, carol)).toMatchObject({ status: 403, body: { error: 'forbidden_role' } });
    expect((await w.control.request('GET', '/sessions')).status).toBe(200);
  });
});
