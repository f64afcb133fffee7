import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';

/**
 * A revocation does not close a stdio session (that would end the agent's connection), so a call
 * still queued in the throttle when the subject is revoked must be refused when its turn comes,
 * not forwarded: the upstream (ACME call log) never sees it.
 */
describe('revocation of a call waiting in the throttle queue over stdio', () => {
  let w: EnforcementWarden;
  beforeAll(async () => {
    // One token every 2 s for read_file, burst 1: a second call right away waits about 2 s.
    w = await startStdioWarden({ sections: { throttle: { buckets: [{ key: 'tool', ratePerMinute: 30, burst: 1 }], maxWaitMs: 5_000 } } });
  });
  afterAll(async () => w?.close());

  it('refuses the queued call with reason revoked; the upstream never receives it', async () => {
    const read = (path: string) => w.client.callTool({ name: 'read_file', arguments: { path } });
    expectUpstreamText(await read('/docs/readme.txt'), 'ACME internal docs');
    const queued = read('/docs/payroll.csv');
    // Let warden receive and queue the call, then revoke its principal (anonymous here).
    await new Promise((r) => setTimeout(r, 300));
    const revoked = await w.control.request('POST', '/revoke', { user: 'anonymous' });
    expect(revoked.status).toBe(200);
    const decision = expectRefusal(await queued, 'revoked');
    expect(w.upstreamCalls().map((c) => c.arguments.path)).toEqual(['/docs/readme.txt']);
    const records = w.audit().filter((r) => r.callId === decision.callId);
    expect(records.some((r) => r.type === 'call.forwarded')).toBe(false);
    expect(records.find((r) => r.type === 'call.identity')).toMatchObject({ ok: false, reason: 'revoked' });
  });
});
