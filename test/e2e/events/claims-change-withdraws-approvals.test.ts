import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditOfType, eventually, identityEnv, upstreamCalls } from '../../helpers/identity-env.js';
import { loggedUrl, startStdioWarden } from '../../helpers/identity-warden.js';
import { controlApi } from '../../helpers/events-control.js';
import { at, pushSet, transmitter, userSubject } from '../../helpers/events-sets.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';
import { DECISION_META_KEY } from '../../../src/core/decision-meta.js';

/**
 * A token-claims-change while a call waits for a person: the approval card shows the claims the
 * call was judged with (say, an employee's), which the identity provider has just replaced (a
 * contractor now). The guard refuses the call once answered (claims_changed); the approval is
 * withdrawn at once too, so nobody approves a call that can no longer run and the agent hears
 * now, not after an approver's click or the timeout. Real processes: an SDK agent on `warden run`
 * (stdio, signed tokens, a test SET transmitter) in front of ACME.
 */
const POLICY = `
version: "e2e-claims-change-withdraws"
mode: enforce
defaults: { sensitivity: low, unclassifiedAction: allow, high: approve, critical: block }
thresholds: { throttle: 98, approve: 99, block: 100 }
rules:
  - id: writes-ask
    match: { tools: [write_file] }
    action: approve
  - id: allow-the-rest
    match: { tools: ['*'] }
    action: allow
`;

const closers = closedAfterEach();

describe('a claims change while a call waits for approval', () => {
  it('withdraws the approval at once, never forwarded (an approver allowing a call judged with claims the IdP withdrew)', async () => {
    const env = await identityEnv('warden-e2e-claims-withdraw-');
    const tx = await transmitter(env.dir);
    const tokenFile = join(env.dir, 'agent.jwt');
    const policyFile = join(env.dir, 'policy.yaml');
    // Issued before the event, so the claims change applies to it.
    writeFileSync(tokenFile, await env.mint({ user: 'alice', actor: 'agent-7', nowMs: Date.now() - 10_000 }));
    writeFileSync(policyFile, POLICY);
    const agent = await startStdioWarden(env.dir, env.config({
      identity: env.identity({ token: { file: tokenFile }, extraClaims: ['employment'] }),
      policy: { files: [policyFile], watch: false },
      events: tx.section(),
      approvals: { timeoutMs: 60_000 },
    }));
    closers.push(() => agent.close());
    const url = await eventually(() => loggedUrl(agent.stderr, 'security event receiver listening'));
    const control = await controlApi(env.adminTokenFile);

    const held = agent.client.callTool({ name: 'write_file', arguments: { path: '/docs/plan.txt', content: 'x' } });
    const pending = await control.waitPending('write_file', 'alice');
    const res = await pushSet(url, await tx.mint({ subId: userSubject('alice'), events: { 'token-claims-change': { claims: { employment: 'contractor' }, ...at(Date.now() - 5_000) } } }));
    expect(res.status, JSON.stringify(res.json)).toBe(202);

    const result = await held;
    expect(result.isError).toBe(true);
    expect((result._meta?.[DECISION_META_KEY] as { reason?: string } | undefined)?.reason).toBe('approval_withdrawn');
    expect(await control.pending()).toEqual([]);
    expect(auditOfType(env.auditFile, 'call.approval_withdrawn')).toEqual([expect.objectContaining({ approvalId: pending.id, reason: 'claims changed' })]);
    expect(upstreamCalls(env.callLog)).not.toContain('write_file');
    // Calling again is judged (and shown) with the claims in force now.
    const again = agent.client.callTool({ name: 'write_file', arguments: { path: '/docs/plan.txt', content: 'y' } });
    const second = await control.waitPending('write_file', 'alice');
    expect(second.id).not.toBe(pending.id);
    expect((await control.post(`/approvals/${second.id}/deny`, {})).status).toBe(200);
    expect((await again).isError).toBe(true);
  });
});
