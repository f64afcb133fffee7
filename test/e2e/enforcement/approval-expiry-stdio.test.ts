import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { CLOCK_SHIFT_PRELOAD, startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { tempDir } from '../../helpers/warden-process.js';
import { until } from '../../helpers/progress.js';

/** Time-bound approval paths through the real warden: no answer in time, and a grant running out. */
let w: EnforcementWarden | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('approval timeout and grant expiry over stdio', () => {
  it('denies at the timeout when nobody answers, tells the agent why, and never calls the upstream', async () => {
    w = await startStdioWarden({ sections: { approvals: { timeoutMs: 1_000 } } });
    const stream = await w.control.stream();
    try {
      const started = Date.now();
      const result = await w.client.callTool({ name: 'write_file', arguments: { path: '/e2e/timeout.txt', content: 'x' } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      const decision = expectRefusal(result, 'approval_timeout');
      expect(decision).toMatchObject({ action: 'approve', approvalId: expect.stringMatching(/^apr_/), rules: ['approve-writes'] });
      await stream.waitFor((e) => e.event === 'pending' && e.data.id === decision.approvalId);
      await stream.waitFor((e) => e.event === 'resolved' && e.data.id === decision.approvalId && e.data.outcome === 'timeout');
      // A late answer cannot resurrect the call.
      expect(await w.control.allow(decision.approvalId!)).toMatchObject({ status: 409, body: { error: 'already_decided' } });
      const records = w.audit().filter((r) => r.callId === decision.callId);
      expect(records.map((r) => r.type)).toEqual(expect.arrayContaining(['call.approval_requested', 'call.approval_timeout']));
      expect(records.some((r) => r.type === 'call.forwarded')).toBe(false);
      expect(w.upstreamCalls()).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('reuses a remembered grant without asking, then asks again once it has expired', async () => {
    const dir = tempDir('warden-e2e-enf-');
    const shiftFile = join(dir, 'clock-shift-ms');
    w = await startStdioWarden({
      dir,
      sections: { approvals: { timeoutMs: 30_000 } },
      nodeArgs: ['--import', pathToFileURL(CLOCK_SHIFT_PRELOAD).href],
      env: { WARDEN_TEST_CLOCK_SHIFT_FILE: shiftFile },
    });
    const control = w.control;
    const send = (to: string) => w!.client.callTool({ name: 'send_email', arguments: { to, subject: 'hi', body: 'b' } });
    const first = send('a@example.com');
    const pending = await control.waitForPending((p) => p.tool === 'send_email', first);
    const answer = await control.allow(pending.id, { rememberMinutes: 1 });
    expect(answer).toMatchObject({ status: 200, body: { grant: { tool: 'send_email', user: pending.principal.user } } });
    const grant = answer.body.grant as { id: string; expiresAt: number; argsDigest?: string };
    expect(grant.argsDigest).toBeUndefined(); // not bound to the arguments: any e-mail by this user
    expectUpstreamText(await first, "sent 'hi' to a@example.com");
    // Reused: another e-mail goes straight through, recorded as allowed by the grant.
    expectUpstreamText(await send('b@example.com'), "sent 'hi' to b@example.com");
    expect(w.audit().filter((r) => r.type === 'call.approval_answered' && r.outcome === 'allowed_by_grant' && r.grantId === grant.id)).toHaveLength(1);
    expect((await control.grants()).map((g) => g.id)).toEqual([grant.id]);
    // Sixty-one seconds later (warden's clock), the grant has expired: the next call is held.
    writeFileSync(shiftFile, '61000');
    const third = send('c@example.com');
    const held = await control.waitForPending((p) => p.tool === 'send_email' && p.id !== pending.id, third);
    expect(await control.grants()).toEqual([]);
    expect((await control.deny(held.id, { reason: 'grant expired' })).status).toBe(200);
    expectRefusal(await third, 'approval_denied');
    expect(w.upstreamCalls().map((c) => c.arguments.to)).toEqual(['a@example.com', 'b@example.com']);
    await until(() => w!.audit().some((r) => r.type === 'grant.created' && r.grantId === grant.id));
  });
});
