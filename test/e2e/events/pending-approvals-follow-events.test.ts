import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditOfType, eventually, identityEnv, replaceTokenFile, upstreamCalls } from '../../helpers/identity-env.js';
import { loggedUrl, startStdioWarden } from '../../helpers/identity-warden.js';
import { controlApi } from '../../helpers/events-control.js';
import { at, EVENTS_POLICY, pushSet, transmitter, userSubject } from '../../helpers/events-sets.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';
import { DECISION_META_KEY } from '../../../src/core/decision-meta.js';

/**
 * A security event that makes a waiting call impossible to forward must withdraw its pending
 * approval at once: otherwise a person is asked to approve a call that is refused after the
 * "allow" anyway, and the agent hangs until someone answers or the approval times out.
 * Real processes: an SDK agent on `warden run` (stdio, signed tokens read from a token file, a
 * test SET transmitter) in front of ACME; `delete_record` is high sensitivity and needs approval.
 */
const closers = closedAfterEach();

async function start(stepUpAction: 'approve' | 'block' = 'approve') {
  const env = await identityEnv('warden-e2e-pending-events-');
  const tx = await transmitter(env.dir);
  const tokenFile = join(env.dir, 'agent.jwt');
  // Issued before the events below, so they apply to it.
  replaceTokenFile(tokenFile, await env.mint({ user: 'alice', actor: 'agent-7', nowMs: Date.now() - 10_000 }));
  const agent = await startStdioWarden(env.dir, env.config({
    identity: env.identity({ token: { file: tokenFile } }),
    policy: { files: [EVENTS_POLICY], watch: false },
    events: tx.section({ stepUp: { minSensitivity: 'high', action: stepUpAction } }),
    approvals: { timeoutMs: 60_000 },
  }));
  closers.push(() => agent.close());
  const url = await eventually(() => loggedUrl(agent.stderr, 'security event receiver listening'));
  const push = async (events: Record<string, Record<string, unknown>>): Promise<void> => {
    const res = await pushSet(url, await tx.mint({ subId: userSubject('alice'), events }));
    expect(res.status, JSON.stringify(res.json)).toBe(202);
  };
  return { env, agent, tokenFile, push, control: await controlApi(env.adminTokenFile) };
}

const reasonOf = (r: unknown) => ((r as { _meta?: Record<string, { reason?: string }> })._meta?.[DECISION_META_KEY])?.reason;
const lowered = () => ({ 'assurance-level-change': { namespace: 'NIST-AAL', previous_level: 'nist-aal2', current_level: 'nist-aal1', change_direction: 'decrease', ...at(Date.now() - 5_000) } });

describe('pending approvals follow the events that doom their call', () => {
  it('a revocation withdraws the pending approval of a token it revokes, although the session already runs on a newer token (stale approval left to a human)', async () => {
    const { env, agent, tokenFile, push, control } = await start();
    const held = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 7 } });
    const pending = await control.waitPending('delete_record', 'alice');
    // The agent's token is refreshed (issued after the coming event) and used: the stdio session now runs as it.
    replaceTokenFile(tokenFile, await env.mint({ user: 'alice', actor: 'agent-7' }));
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'fresh token' } })).isError).toBeFalsy();

    await push({ 'session-revoked': at(Date.now() - 5_000) });
    const result = await held;
    expect(reasonOf(result)).toBe('approval_withdrawn');
    expect(await control.pending()).toEqual([]);
    expect(auditOfType(env.auditFile, 'call.approval_withdrawn')).toEqual([expect.objectContaining({ approvalId: pending.id, reason: 'revoked' })]);
    expect(upstreamCalls(env.callLog)).not.toContain('delete_record');
    // The newer token is not revoked: the session goes on.
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'still signed in' } })).isError).toBeFalsy();
  });

  it('a step-up that blocks high calls withdraws a pending approval of one at once (nobody is asked to allow what the step-up refuses)', async () => {
    const { env, agent, push, control } = await start('block');
    const held = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 8 } });
    const pending = await control.waitPending('delete_record', 'alice');
    await push(lowered());
    const result = await held;
    expect(reasonOf(result)).toBe('approval_withdrawn');
    expect(JSON.stringify(result.content)).toContain('Withdrawn because: step-up required.');
    expect(await control.pending()).toEqual([]);
    expect(auditOfType(env.auditFile, 'call.approval_withdrawn')).toEqual([expect.objectContaining({ approvalId: pending.id, reason: 'step-up required' })]);
    expect(upstreamCalls(env.callLog)).not.toContain('delete_record');
    // Low calls are not concerned.
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'low' } })).isError).toBeFalsy();
  });

  it('a step-up that asks for a human leaves the pending approval to its human, whose allow forwards the call', async () => {
    const { env, agent, push, control } = await start('approve');
    const held = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 9 } });
    const pending = await control.waitPending('delete_record', 'alice');
    await push(lowered());
    await eventually(() => auditOfType(env.auditFile, 'event.effect').some((r) => r.effect === 'step_up'));
    expect((await control.pending()).map((p) => p.id)).toEqual([pending.id]);
    expect((await control.post(`/approvals/${pending.id}/allow`, {})).status).toBe(200);
    expect((await held).isError).toBeFalsy();
    expect(upstreamCalls(env.callLog)).toContain('delete_record');
    expect(auditOfType(env.auditFile, 'call.approval_withdrawn')).toEqual([]);
  });
});
