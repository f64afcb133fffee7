import { describe, expect, it } from 'vitest';
import { startEventsStdioWarden } from '../../helpers/events-warden.js';
import { auditOfType, upstreamCalls } from '../../helpers/identity-env.js';
import { at, pushSet, userSubject } from '../../helpers/events-sets.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';
import { DECISION_META_KEY } from '../../../src/core/decision-meta.js';

/**
 * After a token-claims-change event, the guard judges each call as the principal with the new
 * claims: a copy of the proxy's request with another principal. That copy lost what the request
 * carries on its class (its abort signal, the definitions check), so every call that had to wait
 * (a throttle queue, a human) failed inside enforcement and was blocked as `internal`: the
 * security event turned the approval flow off for that user. And a claims change that comes
 * while a call waits for a person withdraws that approval at once. Real processes: an SDK agent
 * on `warden run` (stdio, signed tokens, a test SET transmitter) in front of ACME.
 */
const POLICY = `
version: "e2e-claims-override-waits"
mode: enforce
defaults: { sensitivity: low, unclassifiedAction: allow, high: approve, critical: block }
thresholds: { throttle: 98, approve: 99, block: 100 }
rules:
  - id: throttle-listing
    match: { tools: [list_customers] }
    action: throttle
  - id: contractors-ask-to-write
    match: { tools: [write_file], claims: [{ path: employment, eq: contractor }] }
    action: approve
  - id: deletions-ask
    match: { tools: [delete_record] }
    action: approve
  - id: allow-the-rest
    match: { tools: ['*'] }
    action: allow
`;

const closers = closedAfterEach();

/** `warden run` for alice; the claims change (alice becomes a contractor) is pushed first unless `later`. */
async function start({ later = false } = {}) {
  const { env, tx, agent, eventsUrl: url, control } = await startEventsStdioWarden('warden-e2e-claims-waits-', {
    user: 'alice',
    policy: POLICY,
    extraClaims: ['employment'],
    config: {
      throttle: { buckets: [{ key: 'tool', ratePerMinute: 120, burst: 1 }], maxWaitMs: 5_000 },
      approvals: { timeoutMs: 60_000 },
    },
  });
  closers.push(() => agent.close());
  const changeClaims = async (): Promise<void> => {
    const res = await pushSet(url, await tx.mint({ subId: userSubject('alice'), events: { 'token-claims-change': { claims: { employment: 'contractor' }, ...at(Date.now() - 5_000) } } }));
    expect(res.status, JSON.stringify(res.json)).toBe(202);
  };
  if (!later) await changeClaims();
  return { env, agent, changeClaims, control };
}

describe('calls judged under changed claims can still wait (throttle, approval)', () => {
  it('a throttled call of a user whose claims an event changed waits for its token and is forwarded, not blocked as internal', async () => {
    const { env, agent } = await start();
    const first = await agent.client.callTool({ name: 'list_customers', arguments: {} });
    const second = await agent.client.callTool({ name: 'list_customers', arguments: {} }); // waits ~0.5 s
    expect(first.isError).toBeFalsy();
    expect(second.isError, JSON.stringify(second)).toBeFalsy();
    expect(upstreamCalls(env.callLog).filter((t) => t === 'list_customers')).toHaveLength(2);
    expect(auditOfType(env.auditFile, 'call.identity').some((r) => r.reason === 'claims_override')).toBe(true);
    expect(auditOfType(env.auditFile, 'call.error')).toEqual([]);
  });

  it('the new claims ask a person (contractors-ask-to-write), and the approved call is forwarded', async () => {
    const { env, agent, control } = await start();
    const held = agent.client.callTool({ name: 'write_file', arguments: { path: '/docs/todo.txt', content: 'x' } });
    const pending = await control.waitPending('write_file', 'alice');
    expect((await control.post(`/approvals/${pending.id}/allow`, {})).status).toBe(200);
    const result = await held;
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(upstreamCalls(env.callLog)).toContain('write_file');
    expect(auditOfType(env.auditFile, 'call.error')).toEqual([]);
  });

  it('a claims change while a call waits for a person withdraws the approval at once, never forwarded (an approver allowing a call judged with claims the IdP withdrew)', async () => {
    const { env, agent, control, changeClaims } = await start({ later: true });
    const held = agent.client.callTool({ name: 'delete_record', arguments: { table: 'customers', id: 7 } });
    const pending = await control.waitPending('delete_record', 'alice');
    await changeClaims();
    const result = await held;
    expect(result.isError).toBe(true);
    expect((result._meta?.[DECISION_META_KEY] as { reason?: string } | undefined)?.reason).toBe('approval_withdrawn');
    expect(await control.pending()).toEqual([]);
    expect(auditOfType(env.auditFile, 'call.approval_withdrawn')).toEqual([expect.objectContaining({ approvalId: pending.id, reason: 'claims changed' })]);
    expect(upstreamCalls(env.callLog)).not.toContain('delete_record');
    // Calling again asks a person afresh.
    const again = agent.client.callTool({ name: 'delete_record', arguments: { table: 'customers', id: 7 } });
    const second = await control.waitPending('delete_record', 'alice');
    expect(second.id).not.toBe(pending.id);
    expect((await control.post(`/approvals/${second.id}/deny`, {})).status).toBe(200);
    expect((await again).isError).toBe(true);
  });
});
