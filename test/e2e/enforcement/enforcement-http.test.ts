import { CallToolResultSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { createTestIdp, TEST_ISSUER } from '../../helpers/enforcement-identity.js';
import { startHttpWarden, type HttpEnforcementWarden } from '../../helpers/enforcement-warden.js';
import { collectProgress, until } from '../../helpers/progress.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * The key enforcement paths again over Streamable HTTP: a real SDK agent authenticates with a
 * bearer token (alice via agent-7) against a real warden in front of ACME; the scripted approver
 * drives the control API. Every refusal checks ACME's call log.
 */
let w: HttpEnforcementWarden;
let agent: Client;
let bobToken: string;
let aliceToken: string;

beforeAll(async () => {
  const dir = tempDir('warden-e2e-enf-');
  const idp = await createTestIdp(dir);
  w = await startHttpWarden({
    dir,
    sections: {
      identity: idp.section(),
      approvals: { timeoutMs: 30_000, progressIntervalMs: 500 },
      throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 1, burst: 1 }], maxWaitMs: 100 },
    },
  });
  aliceToken = await idp.mint('alice', 'agent-7');
  agent = (await w.connectAgent(aliceToken)).client;
  bobToken = await idp.mint('bob', 'agent-9');
});
afterAll(async () => w?.close());

const write = (path: string) => agent.callTool({ name: 'write_file', arguments: { path, content: 'http' } });
const forPath = (path: string) => (p: { arguments: unknown }) => (p.arguments as { path?: string }).path === path;
const writesTo = (path: string) => w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path);

describe('enforcement over Streamable HTTP with bearer identity', () => {
  it('holds a call for approval, sends progress on the call\'s stream, and forwards it once allowed', async () => {
    const seen = collectProgress(agent);
    const call = agent.request(
      { method: 'tools/call', params: { name: 'write_file', arguments: { path: '/e2e/http-allow.txt', content: 'http' }, _meta: { progressToken: 'http-token-7' } } },
      CallToolResultSchema,
    );
    const pending = await w.control.waitForPending(forPath('/e2e/http-allow.txt'), call);
    expect(pending.principal).toMatchObject({ issuer: TEST_ISSUER, user: 'alice', actor: 'agent-7' });
    await until(() => seen.length >= 2, 8_000);
    expect(seen.every((p) => p.progressToken === 'http-token-7')).toBe(true);
    expect(writesTo('/e2e/http-allow.txt')).toEqual([]);
    expect((await w.control.allow(pending.id)).status).toBe(200);
    expectUpstreamText(await call, 'wrote 4 bytes to /e2e/http-allow.txt');
    expect(writesTo('/e2e/http-allow.txt')).toHaveLength(1);
    expect(w.audit().find((r) => r.type === 'call.approval_answered' && r.approvalId === pending.id)).toMatchObject({ outcome: 'allow_once', approver: { kind: 'admin' } });
  });

  it('denies a held call; the upstream never sees it', async () => {
    const call = write('/e2e/http-deny.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/http-deny.txt'), call);
    expect((await w.control.deny(pending.id, { reason: 'not over http' })).status).toBe(200);
    expect(expectRefusal(await call, 'approval_denied')).toMatchObject({ callId: pending.callId, approvalId: pending.id, approver: 'admin' });
    expect(writesTo('/e2e/http-deny.txt')).toEqual([]);
  });

  it('refuses another user\'s agent token as an approval credential', async () => {
    const call = write('/e2e/http-bob.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/http-bob.txt'), call);
    // bob's agent holds a valid token for this warden; it must not answer alice's calls.
    expect((await w.control.allow(pending.id, {}, bobToken)).status).toBe(401);
    expect((await w.control.request('GET', `/approvals/${pending.id}`)).status).toBe(200);
    expect(writesTo('/e2e/http-bob.txt')).toEqual([]);
    expect((await w.control.deny(pending.id)).status).toBe(200);
    expectRefusal(await call, 'approval_denied');
    expect(writesTo('/e2e/http-bob.txt')).toEqual([]);
  });

  it('withdraws the request when the agent cancels over HTTP; the upstream never runs it', async () => {
    const abort = new AbortController();
    const call = agent.callTool({ name: 'write_file', arguments: { path: '/e2e/http-cancel.txt', content: 'x' } }, undefined, { signal: abort.signal });
    const settled = call.then(() => 'resolved', (e: unknown) => e);
    const pending = await w.control.waitForPending(forPath('/e2e/http-cancel.txt'), call);
    abort.abort('agent changed its mind');
    expect(await settled).not.toBe('resolved');
    await until(() => w.audit().some((r) => r.type === 'call.approval_withdrawn' && r.approvalId === pending.id), 8_000);
    expect((await w.control.request('GET', `/approvals/${pending.id}`)).status).toBe(404);
    expect(await w.control.allow(pending.id)).toMatchObject({ status: 409, body: { error: 'already_decided' } });
    expect(writesTo('/e2e/http-cancel.txt')).toEqual([]);
  });

  it('withdraws the request when the agent\'s session ends while it is pending', async () => {
    const second = await w.connectAgent(aliceToken, { name: 'short-lived-agent' });
    const call = second.client.callTool({ name: 'write_file', arguments: { path: '/e2e/http-session-end.txt', content: 'x' } });
    const settled = call.then(() => 'resolved', (e: unknown) => e);
    const pending = await w.control.waitForPending(forPath('/e2e/http-session-end.txt'), call);
    await second.close(); // DELETE the MCP session, then close the client
    await until(() => w.audit().some((r) => r.type === 'call.approval_withdrawn' && r.approvalId === pending.id), 8_000);
    expect(await settled).not.toBe('resolved');
    expect(await w.control.allow(pending.id)).toMatchObject({ status: 409, body: { error: 'already_decided' } });
    expect(writesTo('/e2e/http-session-end.txt')).toEqual([]);
  });

  it('blocks by policy with isError and the decision in _meta; the upstream never sees it', async () => {
    const decision = expectRefusal(await agent.callTool({ name: 'delete_record', arguments: { table: 't', id: 1 } }), 'policy_block');
    expect(decision).toMatchObject({ action: 'block', rules: ['block-deletes'] });
    expect(w.upstreamCalls().some((c) => c.tool === 'delete_record')).toBe(false);
  });

  it('rejects a throttled call beyond the wait bound with retryAfterMs', async () => {
    expectUpstreamText(await agent.callTool({ name: 'read_file', arguments: { path: '/docs/readme.txt' } }), 'ACME internal docs');
    const decision = expectRefusal(await agent.callTool({ name: 'read_file', arguments: { path: '/docs/payroll.csv' } }), 'throttle_rejected');
    expect(decision.retryAfterMs).toBeGreaterThan(50_000);
    expect(decision.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(w.upstreamCalls().filter((c) => c.tool === 'read_file').map((c) => c.arguments.path)).toEqual(['/docs/readme.txt']);
  });

  it('hides a tool and answers it like an unknown tool (-32602)', async () => {
    expect((await agent.listTools()).tools.map((t) => t.name)).not.toContain('run_shell');
    const codeOf = (name: string) => agent.callTool({ name, arguments: {} }).then(() => 'resolved', (e: unknown) => (e instanceof McpError ? e.code : String(e)));
    expect(await codeOf('run_shell')).toBe(ErrorCode.InvalidParams);
    expect(await codeOf('no_such_tool')).toBe(ErrorCode.InvalidParams);
    expect(w.upstreamCalls().some((c) => c.tool === 'run_shell')).toBe(false);
  });
});
