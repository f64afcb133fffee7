import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../../src/identity/dev-tokens.js';
import { expectRefusal } from '../../helpers/enforcement-assert.js';
import { createTestIdp, TEST_ISSUER, TEST_RESOURCE, type TestIdp } from '../../helpers/enforcement-identity.js';
import { startHttpWarden, type HttpEnforcementWarden } from '../../helpers/enforcement-warden.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * An HTTP call is authenticated once, when its POST arrives; a call held for a human can wait up
 * to `approvals.timeoutMs` (up to an hour). A token that expires meanwhile must not have its call
 * forwarded on the approver's "allow": the agent's credential is no longer valid, and a stolen
 * short-lived token would otherwise keep acting long after its `exp`. Nor is a person asked to
 * allow it past that point: the request is withdrawn when the token expires, and the agent hears
 * at once instead of waiting for an answer that cannot help (stale approval left to a human).
 */
let w: HttpEnforcementWarden;
let idp: TestIdp;

beforeAll(async () => {
  const dir = tempDir('warden-e2e-enf-');
  idp = await createTestIdp(dir);
  // No clock tolerance: the token is invalid from its `exp` on, so the test needs no 30 s wait.
  const section = idp.section();
  const issuers = (section.issuers as Record<string, unknown>[]).map((i) => ({ ...i, clockTolerance: 0 }));
  w = await startHttpWarden({ dir, sections: { identity: { ...section, issuers }, approvals: { timeoutMs: 30_000 } } });
});
afterAll(async () => w?.close());

const writesTo = (path: string) => w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path);

describe('a call whose token expires while it waits for a human', () => {
  it('is withdrawn when its token expires (the request shows that deadline), and never reaches the upstream', async () => {
    const token = await mintToken({ key: idp.key, issuer: TEST_ISSUER, audience: TEST_RESOURCE, subject: 'alice', actor: 'agent-7', ttlSeconds: 4 });
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp;
    const agent = (await w.connectAgent(token)).client;
    const call = agent.callTool({ name: 'write_file', arguments: { path: '/e2e/expired-wait.txt', content: 'late' } });
    const pending = await w.control.waitForPending((p) => (p.arguments as { path?: string }).path === '/e2e/expired-wait.txt', call);
    // The approver sees how long the call can still be allowed: until the token's exp, not timeoutMs.
    expect(pending.expiresAt).toBe(exp * 1000);
    expect(pending.expiresInMs).toBeLessThanOrEqual(4_000);
    const result = await call;
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(Date.now()).toBeLessThan(exp * 1000 + 5_000);
    expect(expectRefusal(result, 'approval_withdrawn')).toMatchObject({ callId: pending.callId, approvalId: pending.id });
    // The agent is told why, so it knows to come back with a fresh token.
    expect(JSON.stringify(result.content)).toContain('Withdrawn because: token expired.');
    expect(await w.control.pending()).toEqual([]);
    expect((await w.control.allow(pending.id)).status).toBe(409);
    expect(writesTo('/e2e/expired-wait.txt')).toEqual([]);
    const records = w.audit().filter((r) => r.callId === pending.callId);
    expect(records.find((r) => r.type === 'call.approval_withdrawn')).toMatchObject({ approvalId: pending.id, reason: 'token expired' });
    expect(records.some((r) => r.type === 'call.forwarded')).toBe(false);
  });

  it('still forwards an approved call whose token is valid when the approver answers', async () => {
    const agent = (await w.connectAgent(await idp.mint('alice', 'agent-7'))).client;
    const call = agent.callTool({ name: 'write_file', arguments: { path: '/e2e/valid-wait.txt', content: 'ok' } });
    const pending = await w.control.waitForPending((p) => (p.arguments as { path?: string }).path === '/e2e/valid-wait.txt', call);
    expect((await w.control.allow(pending.id)).status).toBe(200);
    expect((await call).isError ?? false).toBe(false);
    expect(writesTo('/e2e/valid-wait.txt')).toHaveLength(1);
  });
});
