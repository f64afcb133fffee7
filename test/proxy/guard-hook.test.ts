import { afterEach, describe, expect, it } from 'vitest';
import type { Guard, GuardVerdict, SessionInfo, ToolCallRequest, ToolDefinition, UpstreamOutcome } from '../../src/core/tool-call.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import { startStdioWardenWithClient } from '../helpers/in-process-warden.js';
import { createTestAuthenticator, testPrincipal } from '../helpers/test-authenticator.js';
import { digestOf } from '../../src/core/canonical-json.js';

type Started = Awaited<ReturnType<typeof startStdioWardenWithClient>>;
let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

/** A guard that records what it saw and answers with `decide`. */
function recordingGuard(decide: (req: ToolCallRequest) => Promise<GuardVerdict> | GuardVerdict) {
  const seen: ToolCallRequest[] = [];
  const listed: Array<[string, readonly ToolDefinition[]]> = [];
  const opened: SessionInfo[] = [];
  const closed: string[] = [];
  const guard: Guard = {
    checkToolCall: async (req) => {
      seen.push(req);
      return decide(req);
    },
    onToolsListed: (upstream, tools) => void listed.push([upstream, tools]),
    onSessionOpened: (s) => void opened.push(s),
    onSessionClosed: (_s, reason) => void closed.push(reason),
  };
  return { guard, seen, listed, opened, closed };
}

const readPayroll = { name: 'read_file', arguments: { path: '/docs/payroll.csv' } };
const overwritePayroll = { name: 'write_file', arguments: { path: '/docs/payroll.csv', content: 'pwned' } };

describe('guard hook on tools/call', () => {
  it('blocks and never forwards when the guard throws (fail closed)', async () => {
    const g = recordingGuard((req) => {
      if (req.tool === 'write_file') throw new Error('policy engine exploded');
      return { kind: 'forward' };
    });
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    const blocked = await started.client.callTool(overwritePayroll);
    expect(blocked.isError).toBe(true);
    const meta = (blocked._meta as Record<string, unknown>)[DECISION_META_KEY] as Record<string, unknown>;
    expect(meta).toEqual({ action: 'block', reason: 'internal', callId: g.seen[0]!.callId });
    // The upstream never saw the write: the file still has its original content.
    const after = await started.client.callTool(readPayroll);
    expect(after.content).toEqual([{ type: 'text', text: 'name,salary\nalice,100\nbob,90' }]);
  });

  it('cancelled while judged: a forward verdict is never forwarded and still gets a cancelled outcome', async () => {
    let release!: () => void;
    const judged = new Promise<void>((resolve) => (release = resolve));
    const outcomes: UpstreamOutcome[] = [];
    const g = recordingGuard(async (req) => {
      if (req.tool !== 'write_file') return { kind: 'forward' };
      await judged; // the agent cancels while the guard is still deciding (e.g. waiting on a human)
      return { kind: 'forward', onOutcome: (o) => void outcomes.push(o) };
    });
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    const abort = new AbortController();
    const call = started.client.callTool(overwritePayroll, undefined, { signal: abort.signal });
    while (g.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    abort.abort('agent gave up');
    await expect(call).rejects.toThrow();
    release();
    while (outcomes.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(outcomes[0]!.status).toBe('cancelled');
    // The write never reached the upstream: the file keeps its original content.
    const after = await started.client.callTool(readPayroll);
    expect(after.content).toEqual([{ type: 'text', text: 'name,salary\nalice,100\nbob,90' }]);
  });

  it('blocks when the guard rejects its promise', async () => {
    const g = recordingGuard(() => Promise.reject(new Error('timeout in risk stage')));
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    const result = await started.client.callTool(overwritePayroll);
    expect(result.isError).toBe(true);
    expect(((result._meta as Record<string, Record<string, unknown>>)[DECISION_META_KEY])!.reason).toBe('internal');
  });

  it('blocks when the guard returns a malformed verdict', async () => {
    const g = recordingGuard((req) => (req.tool === 'write_file' ? ({ kind: 'allow-please' } as unknown as GuardVerdict) : { kind: 'forward' }));
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    const result = await started.client.callTool(overwritePayroll);
    expect(((result._meta as Record<string, Record<string, unknown>>)[DECISION_META_KEY])!.reason).toBe('internal');
    const after = await started.client.callTool(readPayroll);
    expect(JSON.stringify(after.content)).toContain('alice,100');
  });

  it('answers with the guard result on respond, and with a JSON-RPC error on error', async () => {
    const g = recordingGuard((req) =>
      req.tool === 'delete_record'
        ? { kind: 'error', code: -32602, message: 'Unknown tool: delete_record' }
        : { kind: 'respond', result: { content: [{ type: 'text', text: 'denied' }], isError: true } },
    );
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    expect(await started.client.callTool(overwritePayroll)).toEqual({ content: [{ type: 'text', text: 'denied' }], isError: true });
    await expect(started.client.callTool({ name: 'delete_record', arguments: { table: 't', id: 1 } })).rejects.toMatchObject({ code: -32602 });
  });

  it('builds the ToolCallRequest: principal, arguments, definition, progress token, sendProgress', async () => {
    const g = recordingGuard((req) => {
      req.sendProgress?.(0.5, 1, 'judging');
      return { kind: 'forward' };
    });
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    await started.client.listTools();
    const progress: string[] = [];
    await started.client.callTool({ name: 'slow_task', arguments: { steps: 1, delayMs: 1 } }, undefined, { onprogress: (p) => void progress.push(p.message ?? String(p.progress)) });
    await started.client.callTool({ name: 'echo', arguments: { message: 'x' } });
    const [slow, echo] = g.seen;
    expect(slow!.principal.anonymous).toBe(true);
    expect(slow!.tool).toBe('slow_task');
    expect(slow!.upstream).toBe('acme');
    expect(slow!.transport).toBe('stdio');
    expect(slow!.arguments).toEqual({ steps: 1, delayMs: 1 });
    expect(slow!.progressToken).not.toBeUndefined();
    expect(slow!.toolDefinition?.annotations?.readOnlyHint).toBe(true);
    expect(progress[0]).toBe('judging');
    expect(echo!.progressToken).toBeUndefined();
    expect(echo!.sendProgress).toBeUndefined();
    expect(echo!.callId).not.toBe(slow!.callId);
    expect(echo!.clientInfo?.name).toBe('test-agent');
    expect(g.listed[0]![0]).toBe('acme');
    expect(g.listed[0]![1].some((t) => t.name === 'transfer_funds')).toBe(true);
    expect(g.opened).toHaveLength(1);
  });

  it('calls onOutcome exactly once with status, duration, bytes and items', async () => {
    const outcomes: UpstreamOutcome[] = [];
    const g = recordingGuard(() => ({ kind: 'forward', onOutcome: (o) => void outcomes.push(o) }));
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    await started.client.callTool({ name: 'export_customers', arguments: {} });
    await started.client.callTool({ name: 'read_file', arguments: { path: '/missing' } });
    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toMatchObject({ status: 'ok', resultItems: 500 });
    expect(outcomes[0]!.resultBytes).toBeGreaterThan(10_000);
    // Size and digest come from one serialisation: the same bytes JSON.stringify gives, and the canonical digest.
    expect(outcomes[0]!.resultBytes).toBe(Buffer.byteLength(JSON.stringify(outcomes[0]!.result)));
    expect(outcomes[0]!.resultDigest).toBe(digestOf(outcomes[0]!.result));
    expect(outcomes[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(outcomes[1]!.status).toBe('tool_error');
  });

  it('reports cancelled and aborts the signal when the agent cancels', async () => {
    const outcomes: UpstreamOutcome[] = [];
    const g = recordingGuard(() => ({ kind: 'forward', onOutcome: (o) => void outcomes.push(o) }));
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    const controller = new AbortController();
    const call = started.client.callTool({ name: 'hang', arguments: {} }, undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await expect(call).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(outcomes).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    expect(g.seen[0]!.signal.aborted).toBe(true);
  });

  it('re-authenticates stdio on every call and blocks once the token is no longer valid', async () => {
    const auth = createTestAuthenticator({ good: testPrincipal('alice', 'agent-1') }, { stdioToken: 'good' });
    const g = recordingGuard(() => ({ kind: 'forward' }));
    started = await startStdioWardenWithClient({ dangerouslyAllowAnonymous: false }, { guard: g.guard, authenticator: auth });
    await started.client.callTool({ name: 'echo', arguments: { message: '1' } });
    await started.client.callTool({ name: 'echo', arguments: { message: '2' } });
    expect(auth.stdioCalls).toBe(4); // initialize, the initialized notification, one per call
    expect(g.seen[1]!.principal.actor).toBe('agent-1');
    auth.stdioToken = 'expired';
    const denied = await started.client.callTool(overwritePayroll);
    expect(denied.isError).toBe(true);
    expect(((denied._meta as Record<string, Record<string, unknown>>)[DECISION_META_KEY])).toMatchObject({ action: 'block', reason: 'token_invalid' });
    expect(g.seen).toHaveLength(2); // the guard never saw the unauthenticated call
    auth.stdioToken = 'good';
    const file = await started.client.callTool(readPayroll);
    expect(JSON.stringify(file.content)).toContain('alice,100');
  });

  it('hides tools the guard says are never visible and reports session close', async () => {
    const g = recordingGuard(() => ({ kind: 'forward' }));
    g.guard.isToolVisible = (_p, _s, upstream, tool) => !(upstream === 'acme' && tool === 'run_shell');
    started = await startStdioWardenWithClient({}, { guard: g.guard });
    const { tools } = await started.client.listTools();
    expect(tools.map((t) => t.name)).not.toContain('run_shell');
    expect(tools.map((t) => t.name)).toContain('echo');
    const [info] = started.handle.listSessions();
    expect(await started.handle.closeSession(info!.sessionId, 'revoked')).toBe(true);
    expect(g.closed).toEqual(['revoked']);
    expect(started.handle.listSessions()).toHaveLength(0);
  });
});
