import { describe, expect, it } from 'vitest';
import { startEventsStdioWarden } from '../../helpers/events-warden.js';
import { auditOfType, eventually, upstreamCalls } from '../../helpers/identity-env.js';
import { at, pushSet, userSubject } from '../../helpers/events-sets.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * A remembered grant ("allow and remember") was given for a call judged, and shown to the
 * approver, with the caller's claims of the time. A token-claims-change replaces them (a group
 * removed, an account marked as a contractor): a call waiting for a person is withdrawn and one
 * that waited is refused (claims_changed), but the grant stayed, and the next call of the same
 * principal ran on it with no person asked, on the standing the IdP had withdrawn. Real processes:
 * an SDK agent on `warden run` (stdio, signed token, a test SET transmitter) in front of ACME.
 */
const POLICY = `
version: "e2e-claims-grants"
mode: enforce
defaults: { sensitivity: low, unclassifiedAction: allow, high: approve, critical: block }
thresholds: { throttle: 98, approve: 99, block: 100 }
rules:
  - id: deletions-ask
    match: { tools: [delete_record] }
    action: approve
  - id: allow-the-rest
    match: { tools: ['*'] }
    action: allow
`;

const closers = closedAfterEach();

describe('a claims change retires the remembered grants of its subject', () => {
  it('the next call after a token-claims-change asks a person again (grant kept across changed claims), and the grant is revoked, audited', async () => {
    const { env, tx, agent, eventsUrl: url, control } = await startEventsStdioWarden('warden-e2e-claims-grants-', {
      user: 'alice',
      policy: POLICY,
      extraClaims: ['employment'],
      config: { approvals: { timeoutMs: 60_000 } },
    });
    closers.push(() => agent.close());

    const first = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 1 } });
    const pending = await control.waitPending('delete_record', 'alice');
    const allowed = await control.post<{ grant?: { id: string } }>(`/approvals/${pending.id}/allow`, { rememberMinutes: 60 });
    expect(allowed.status).toBe(200);
    const grantId = allowed.json.grant?.id;
    expect(grantId).toBeDefined();
    expect((await first).isError).toBeFalsy();
    // The grant answers for alice's next call, as remembered.
    expect((await agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 2 } })).isError).toBeFalsy();

    const res = await pushSet(url, await tx.mint({ subId: userSubject('alice'), events: { 'token-claims-change': { claims: { employment: 'contractor' }, ...at(Date.now() - 5_000) } } }));
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    await eventually(() => auditOfType(env.auditFile, 'grant.revoked').length > 0);
    expect(auditOfType(env.auditFile, 'grant.revoked')).toEqual([expect.objectContaining({ grantId, user: 'alice', reason: 'claims_changed', by: 'claims-change' })]);
    expect((await control.get<{ grants: unknown[] }>('/grants')).grants).toEqual([]);

    // A person is asked again about the call judged with the new claims.
    const third = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 3 } });
    const asked = await control.waitPending('delete_record', 'alice');
    expect((await control.post(`/approvals/${asked.id}/deny`, {})).status).toBe(200);
    expect((await third).isError).toBe(true);
    expect(upstreamCalls(env.callLog).filter((t) => t === 'delete_record')).toHaveLength(2);
  });
});
