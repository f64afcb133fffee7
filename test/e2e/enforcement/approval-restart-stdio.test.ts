import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { eventuallyResolves } from '../../helpers/progress.js';

/**
 * A call held for approval while its upstream crashes and restarts: the approval was given for the
 * tool as the old process listed it. The restarted process may offer something else under that
 * name, so the approved call is not forwarded to it (nor recorded as forwarded); the agent is
 * told to call again.
 */
let w: EnforcementWarden;

beforeAll(async () => {
  w = await startStdioWarden({ sections: { approvals: { timeoutMs: 30_000 } } });
});
afterAll(async () => {
  await w?.close();
});

describe('approval across an upstream restart (stdio)', () => {
  it('does not forward a call approved for the crashed process to the restarted one', async () => {
    const path = '/e2e/across-restart.txt';
    const call = w.client.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
    const pending = await w.control.waitForPending((p) => p.tool === 'write_file', call);
    await expect(w.client.callTool({ name: 'crash', arguments: {} })).rejects.toMatchObject({ code: -32000 });
    await eventuallyResolves(() => w.client.callTool({ name: 'echo', arguments: { message: 'back' } }));
    expect((await w.control.allow(pending.id)).status).toBe(200);
    const refused = await call;
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('restarted while this tool call was judged');
    expect(refused._meta?.['dev.mcp-warden/decision']).toMatchObject({ reason: 'upstream_restarted', callId: pending.callId });
    expect(w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path)).toEqual([]);
    // The trail says what happened: refused, never forwarded (a `call.forwarded` here would claim
    // the approved call went out).
    const records = w.audit().filter((r) => r.callId === pending.callId);
    expect(records.filter((r) => r.type === 'call.forwarded')).toEqual([]);
    expect(records.at(-1)).toMatchObject({ type: 'call.decision', action: 'block', enforced: 'block', reason: 'upstream_restarted', tool: 'write_file' });
    // Calling again works against the new process, through a fresh approval.
    const again = w.client.callTool({ name: 'write_file', arguments: { path, content: 'y' } });
    const second = await w.control.waitForPending((p) => p.tool === 'write_file' && p.id !== pending.id, again);
    expect((await w.control.allow(second.id)).status).toBe(200);
    expect(JSON.stringify((await again).content)).toContain(`to ${path}`);
    expect(w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path)).toHaveLength(1);
  });
});
