import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal } from '../../helpers/enforcement-assert.js';
import { ENFORCEMENT_POLICY, startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { until } from '../../helpers/progress.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * A pending approval is bound to the policy version it was asked under. An operator who reloads
 * the policy to block a tool (incident response) must not see an approval asked under the old
 * policy forward that tool afterwards: the pending request is withdrawn.
 */
/** A warden on its own copy of the enforcement policy, watched for changes. */
async function startOnPolicyCopy(prefix: string): Promise<{ w: EnforcementWarden; policyFile: string }> {
  const dir = tempDir(prefix);
  const policyFile = join(dir, 'policy.yaml');
  copyFileSync(ENFORCEMENT_POLICY, policyFile);
  const w = await startStdioWarden({ dir, sections: { policy: { files: [policyFile], watch: true, decisionBudgetMs: 10_000 } } });
  return { w, policyFile };
}

/** Replaces the policy file atomically with `edit` applied, then waits for warden's reload record. */
async function editPolicy(w: EnforcementWarden, policyFile: string, edit: (text: string) => string): Promise<void> {
  const before = readFileSync(policyFile, 'utf8');
  const edited = edit(before);
  expect(edited).not.toBe(before);
  writeFileSync(`${policyFile}.tmp`, edited);
  renameSync(`${policyFile}.tmp`, policyFile);
  for (let i = 0; i < 200 && !w.audit().some((r) => r.type === 'policy.loaded' && r['reload'] === true); i++) await new Promise((r) => setTimeout(r, 25));
  expect(w.audit().some((r) => r.type === 'policy.loaded' && r['reload'] === true)).toBe(true);
}

describe('a policy reload withdraws approvals asked under the previous policy (stdio)', () => {
  let w: EnforcementWarden;
  let policyFile: string;
  beforeAll(async () => {
    ({ w, policyFile } = await startOnPolicyCopy('warden-e2e-enf-reload-'));
  });
  afterAll(async () => w?.close());

  it('the held call ends approval_withdrawn and never reaches the upstream, even if an approver then allows it', async () => {
    const call = w.client.callTool({ name: 'transfer_funds', arguments: { to: 'ACME-99', amount: 5000 } });
    const pending = await w.control.waitForPending((p) => p.tool === 'transfer_funds', call);
    // The operator blocks payments: the approve rule becomes a block rule.
    await editPolicy(w, policyFile, (text) => text.replace('send_email] }\n    action: approve', 'send_email] }\n    action: block'));
    // An approver who still has the old card answers it.
    const answered = await w.control.allow(pending.id);
    expect(answered.status).not.toBe(200);
    expectRefusal(await call, 'approval_withdrawn');
    expect(w.upstreamCalls().some((c) => c.tool === 'transfer_funds')).toBe(false);
    expect(w.audit().find((r) => r.type === 'call.approval_withdrawn' && r['approvalId'] === pending.id)).toMatchObject({ reason: 'policy changed' });
  });
});

describe('a policy reload revokes grants remembered under the previous policy (stdio)', () => {
  let w: EnforcementWarden;
  let policyFile: string;
  beforeAll(async () => {
    ({ w, policyFile } = await startOnPolicyCopy('warden-e2e-enf-reload-grant-'));
  });
  afterAll(async () => w?.close());

  const pay = () => w.client.callTool({ name: 'transfer_funds', arguments: { amount: 100, currency: 'EUR', payee: 'ACME-7' } });

  it('a grant approved under the old rules does not let the next call skip the human under the new ones', async () => {
    const first = pay();
    const pending = await w.control.waitForPending((p) => p.tool === 'transfer_funds', first);
    const answer = await w.control.allow(pending.id, { rememberMinutes: 30 });
    const grantId = (answer.body.grant as { id: string }).id;
    await first;
    // The grant works while the policy stands.
    await pay();
    expect(w.audit().filter((r) => r.type === 'call.approval_answered' && r['outcome'] === 'allowed_by_grant')).toHaveLength(1);
    expect(w.audit().find((r) => r.type === 'grant.created' && r['grantId'] === grantId)).toMatchObject({ policyHash: pending.policyHash });
    // The operator edits the policy (the approve rule now states its mode): a new policy version.
    await editPolicy(w, policyFile, (text) => text.replace('match: { tools: [write_file, transfer_funds, send_email] }', 'match: { tools: [write_file, transfer_funds, send_email] }\n    mode: enforce'));
    await until(() => w.audit().some((r) => r.type === 'grant.revoked' && r['grantId'] === grantId), 5_000);
    expect(w.audit().find((r) => r.type === 'grant.revoked' && r['grantId'] === grantId)).toMatchObject({ reason: 'policy_changed', by: 'policy-reload', approver: { kind: 'system', id: 'policy-reload' } });
    expect(await w.control.grants()).toEqual([]);
    // The same call now asks a human again, under the new policy version.
    const third = pay();
    const asked = await w.control.waitForPending((p) => p.tool === 'transfer_funds' && p.id !== pending.id, third);
    expect(asked.policyHash).not.toBe(pending.policyHash);
    expect(w.upstreamCalls().filter((c) => c.tool === 'transfer_funds')).toHaveLength(2);
    await w.control.deny(asked.id);
    await third;
    expect(w.upstreamCalls().filter((c) => c.tool === 'transfer_funds')).toHaveLength(2);
  });
});
