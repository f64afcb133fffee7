import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { eventuallyResolves } from '../../helpers/progress.js';

/**
 * A call held for approval while its upstream crashes and restarts: the approval would be given
 * for the tool as the old process listed it. The restarted process may offer something else under
 * that name, so the call is never forwarded to it (nor recorded as forwarded): its approval is
 * withdrawn when the upstream restarts, so no person is asked to allow a call that could not run
 * (an "allow" given anyway would be refused, upstream_restarted), and the agent hears at once.
 */
let w: EnforcementWarden;

beforeAll(async () => {
  w = await startStdioWarden({ sections: { approvals: { timeoutMs: 30_000 } } });
});
afterAll(async () => {
  await w?.close();
});

describe('approval across an upstream restart (stdio)', () => {
  it('withdraws the approval of a call judged against the crashed process when it restarts (stale approval left to a human), never forwarding it', async () => {
    const path = '/e2e/across-restart.txt';
    const call = w.client.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
    const pending = await w.control.waitForPending((p) => p.tool === 'write_file', call);
    await expect(w.client.callTool({ name: 'crash', arguments: {} })).rejects.toMatchObject({ code: -32000 });
    await eventuallyResolves(() => w.client.callTool({ name: 'echo', arguments: { message: 'back' } }));
    const refused = await call;
    expect(refused.isError).toBe(true);
    expect(refused._meta?.['dev.mcp-warden/decision']).toMatchObject({ reason: 'approval_withdrawn', callId: pending.callId, approvalId: pending.id });
    expect(await w.control.pending()).toEqual([]);
    expect((await w.control.allow(pending.id)).status).toBe(409);
    expect(w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path)).toEqual([]);
    // The trail says what happened: withdrawn, never forwarded.
    const records = w.audit().filter((r) => r.callId === pending.callId);
    expect(records.filter((r) => r.type === 'call.forwarded')).toEqual([]);
    expect(records.find((r) => r.type === 'call.approval_withdrawn')).toMatchObject({ approvalId: pending.id, reason: 'the upstream restarted' });
    // Calling again works against the new process, through a fresh approval.
    const again = w.client.callTool({ name: 'write_file', arguments: { path, content: 'y' } });
    const second = await w.control.waitForPending((p) => p.tool === 'write_file' && p.id !== pending.id, again);
    expect((await w.control.allow(second.id)).status).toBe(200);
    expect(JSON.stringify((await again).content)).toContain(`to ${path}`);
    expect(w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path)).toHaveLength(1);
  });
});
