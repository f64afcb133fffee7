import { afterAll, describe, expect, it } from 'vitest';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { until } from '../../helpers/progress.js';

/**
 * The stdio counterpart of agent-gone-http.test.ts: the agent process that launched warden goes
 * away (its end of warden's stdin closes) while a call waits for a human. The pending approval
 * must be withdrawn, audited with a reason, and the call never forwarded.
 */
let w: EnforcementWarden | undefined;
afterAll(async () => w?.close());

describe('a stdio agent that goes away while its call waits for approval', () => {
  it('withdraws the approval when the agent closes warden\'s stdin; nothing is forwarded', async () => {
    w = await startStdioWarden({ sections: { approvals: { timeoutMs: 30_000 } } });
    const call = w.client.callTool({ name: 'write_file', arguments: { path: '/gone/stdio.txt', content: 'x' } });
    const settled = call.then(() => 'resolved', (e: unknown) => e);
    const pending = await w.control.waitForPending((p) => (p.arguments as { path?: string }).path === '/gone/stdio.txt', call);
    await w.close(); // the SDK's stdio close(): ends warden's stdin first
    expect(await settled).not.toBe('resolved');
    const audit = w;
    await until(() => audit.audit().some((r) => r.type === 'call.approval_withdrawn' && r.approvalId === pending.id), 8_000);
    const withdrawn = w.audit().find((r) => r.type === 'call.approval_withdrawn' && r.approvalId === pending.id);
    // The session ended because the agent's end of the transport closed (not warden's shutdown).
    expect(withdrawn?.reason).toBe('session closed: transport_closed');
    expect(w.audit().some((r) => r.type === 'call.forwarded' && r.callId === pending.callId)).toBe(false);
    expect(w.upstreamCalls().filter((c) => c.tool === 'write_file')).toEqual([]);
  });
});
