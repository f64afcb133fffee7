import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';

/**
 * Throttling, blocking and hiding through the real warden over stdio in front of ACME
 * (policy: read_file → throttle, delete_record → block, run_shell → block + hide).
 */
describe('throttle delay, block messages and hidden tools over stdio', () => {
  let w: EnforcementWarden;
  beforeAll(async () => {
    // One token every two seconds for read_file, burst 1: a second call right away waits up to 2 s.
    w = await startStdioWarden({ sections: { throttle: { buckets: [{ key: 'tool', ratePerMinute: 30, burst: 1 }], maxWaitMs: 5_000 } } });
  });
  afterAll(async () => w?.close());

  it('delays a throttled call until a token is free, then forwards it', async () => {
    const read = () => w.client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.txt' } });
    expectUpstreamText(await read(), 'ACME internal docs');
    const started = Date.now();
    expectUpstreamText(await read(), 'ACME internal docs');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const admitted = w.audit().filter((r) => r.type === 'call.throttle');
    expect(admitted.map((r) => r.outcome)).toEqual(['admitted', 'admitted']);
    expect(admitted[0]!.waitedMs).toBeLessThan(1_000);
    expect(admitted[1]!.waitedMs).toBeGreaterThanOrEqual(1_000);
    expect(w.upstreamCalls().filter((c) => c.tool === 'read_file')).toHaveLength(2);
  });

  it('answers a blocked call with isError and the decision in _meta; the upstream never sees it', async () => {
    const result = await w.client.callTool({ name: 'delete_record', arguments: { table: 'customers', id: 7 } });
    const decision = expectRefusal(result, 'policy_block');
    expect(decision).toMatchObject({ action: 'block', rules: ['block-deletes'], policyHash: expect.stringMatching(/^sha256:/) });
    expect(JSON.stringify(result.content)).not.toContain('customers'); // names rules, never argument values
    const records = w.audit().filter((r) => r.callId === decision.callId);
    expect(records.find((r) => r.type === 'call.decision')).toMatchObject({ action: 'block', enforced: 'block' });
    expect(records.some((r) => r.type === 'call.forwarded')).toBe(false);
    expect(w.upstreamCalls().some((c) => c.tool === 'delete_record')).toBe(false);
  });

  it('hides a tool from tools/list and answers calling it exactly like an unknown tool (-32602)', async () => {
    const listed = (await w.client.listTools()).tools.map((t) => t.name);
    expect(listed).toEqual(expect.arrayContaining(['echo', 'read_file', 'write_file', 'delete_record']));
    expect(listed).not.toContain('run_shell');
    const errorOf = (name: string) => w.client.callTool({ name, arguments: { command: 'id' } }).then(() => 'resolved', (e: unknown) => e);
    const hidden = await errorOf('run_shell');
    const unknown = await errorOf('no_such_tool');
    expect(hidden).toBeInstanceOf(McpError);
    expect(unknown).toBeInstanceOf(McpError);
    expect((hidden as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((unknown as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((hidden as McpError).message.replace('run_shell', 'X')).toBe((unknown as McpError).message.replace('no_such_tool', 'X'));
    expect(w.upstreamCalls().some((c) => c.tool === 'run_shell' || c.tool === 'no_such_tool')).toBe(false);
    expect(w.audit().find((r) => r.type === 'call.decision' && r.tool === 'run_shell')).toMatchObject({ action: 'block', hidden: true });
  });
});

describe('throttle rejection over stdio', () => {
  let w: EnforcementWarden;
  beforeAll(async () => {
    // One call per minute per user+agent and at most 100 ms of waiting: the second call is refused.
    w = await startStdioWarden({ sections: { throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 1, burst: 1 }], maxWaitMs: 100 } } });
  });
  afterAll(async () => w?.close());

  it('rejects a call beyond the wait bound with retryAfterMs; the upstream never sees it', async () => {
    expectUpstreamText(await w.client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.txt' } }), 'ACME internal docs');
    const result = await w.client.callTool({ name: 'read_file', arguments: { path: '/docs/payroll.csv' } });
    const decision = expectRefusal(result, 'throttle_rejected');
    expect(decision).toMatchObject({ action: 'throttle', rules: ['throttle-reads'] });
    expect(decision.retryAfterMs).toBeGreaterThan(50_000);
    expect(decision.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(w.audit().find((r) => r.type === 'call.throttle' && r.callId === decision.callId)).toMatchObject({ outcome: 'rejected', reason: 'rate', retryAfterMs: expect.any(Number) });
    expect(w.upstreamCalls().map((c) => c.arguments.path)).toEqual(['/docs/readme.txt']);
    // Calls the policy does not throttle are unaffected.
    expectUpstreamText(await w.client.callTool({ name: 'echo', arguments: { message: 'hi' } }), 'hi');
  });
});
