import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { createTestIdp, writeSecret } from '../../helpers/enforcement-identity.js';
import { startHttpWarden, type HttpEnforcementWarden } from '../../helpers/enforcement-warden.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * Self-approval through a remembered grant. An agent that holds an approver credential (agent-9)
 * may not answer calls it is a party to. But it can answer another agent's call of the same user
 * (alice via agent-7) with "allow and remember, any agent" (`rememberScope: user`): the grant then
 * covers alice through agent-9 too, and agent-9's own calls ran on it without any human. A grant
 * never answers a call whose parties include the approver who made it. Real processes: `warden
 * run` on Streamable HTTP in front of ACME, two SDK agents with JWTs of a local IdP.
 */
let w: HttpEnforcementWarden;
let agent7: ConnectedClient;
let agent9: ConnectedClient;
let agent9Approver: string;
let carol: string;

beforeAll(async () => {
  const dir = tempDir('warden-e2e-selfgrant-');
  const idp = await createTestIdp(dir);
  agent9Approver = writeSecret(dir, 'agent-9.token').value;
  carol = writeSecret(dir, 'carol.token').value;
  w = await startHttpWarden({
    dir,
    sections: {
      identity: idp.section(),
      approvals: { timeoutMs: 30_000, approvers: [{ id: 'agent-9', tokenFile: 'agent-9.token' }, { id: 'carol', tokenFile: 'carol.token' }] },
    },
  });
  agent7 = await w.connectAgent(await idp.mint('alice', 'agent-7'));
  agent9 = await w.connectAgent(await idp.mint('alice', 'agent-9'));
});
afterAll(async () => w?.close());

const write = (agent: ConnectedClient, path: string) => agent.client.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
const forPath = (path: string) => (p: { arguments: unknown }) => (p.arguments as { path?: string }).path === path;
const writesTo = (path: string) => w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path);

describe('an approver cannot approve itself through a grant it made', () => {
  it('a user-wide grant made by approver agent-9 does not answer agent-9\'s own calls: a human is asked, and agent-9 cannot answer', async () => {
    const first = write(agent7, '/e2e/by-agent-7.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/by-agent-7.txt'), first);
    expect(pending.principal).toMatchObject({ user: 'alice', actor: 'agent-7' });
    // agent-9 is no party to agent-7's call: it may answer, and widen the grant to alice through any agent.
    const answered = await w.control.allow(pending.id, { rememberMinutes: 60, rememberScope: 'user' }, agent9Approver);
    expect(answered).toMatchObject({ status: 200, body: { grant: { scope: 'user', user: 'alice', createdBy: { kind: 'approver', id: 'agent-9' } } } });
    expectUpstreamText(await first, 'wrote 1 bytes to /e2e/by-agent-7.txt');

    // The grant still answers for alice through agents other than its maker...
    expectUpstreamText(await write(agent7, '/e2e/by-agent-7-again.txt'), 'wrote 1 bytes to /e2e/by-agent-7-again.txt');
    // ...but agent-9's own call is held for a human, as if there were no grant.
    const own = write(agent9, '/e2e/by-agent-9.txt');
    const held = await w.control.waitForPending(forPath('/e2e/by-agent-9.txt'), own);
    expect(held.principal).toMatchObject({ user: 'alice', actor: 'agent-9' });
    expect(writesTo('/e2e/by-agent-9.txt')).toEqual([]);
    expect(await w.control.allow(held.id, {}, agent9Approver)).toMatchObject({ status: 403, body: { error: 'self_approval' } });
    expect((await w.control.deny(held.id, { reason: 'not on your own say-so' }, carol)).status).toBe(200);
    expect(expectRefusal(await own, 'approval_denied')).toMatchObject({ approver: 'carol' });
    expect(writesTo('/e2e/by-agent-9.txt')).toEqual([]);
    expect(w.audit().some((r) => r.type === 'call.approval_answered' && r.how === 'grant' && r.callId === held.callId)).toBe(false);
  });
});
