import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal } from '../../helpers/enforcement-assert.js';
import { ENFORCEMENT_POLICY, startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * A pending approval is bound to the policy version it was asked under. An operator who reloads
 * the policy to block a tool (incident response) must not see an approval asked under the old
 * policy forward that tool afterwards: the pending request is withdrawn.
 */
describe('a policy reload withdraws approvals asked under the previous policy (stdio)', () => {
  let w: EnforcementWarden;
  let policyFile: string;
  beforeAll(async () => {
    const dir = tempDir('warden-e2e-enf-reload-');
    policyFile = join(dir, 'policy.yaml');
    copyFileSync(ENFORCEMENT_POLICY, policyFile);
    w = await startStdioWarden({ dir, sections: { policy: { files: [policyFile], watch: true, decisionBudgetMs: 10_000 } } });
  });
  afterAll(async () => w?.close());

  it('the held call ends approval_withdrawn and never reaches the upstream, even if an approver then allows it', async () => {
    const call = w.client.callTool({ name: 'transfer_funds', arguments: { to: 'ACME-99', amount: 5000 } });
    const pending = await w.control.waitForPending((p) => p.tool === 'transfer_funds', call);
    // The operator blocks payments: the approve rule becomes a block rule.
    const edited = readFileSync(policyFile, 'utf8').replace('send_email] }\n    action: approve', 'send_email] }\n    action: block');
    expect(edited).not.toBe(readFileSync(policyFile, 'utf8'));
    writeFileSync(`${policyFile}.tmp`, edited);
    renameSync(`${policyFile}.tmp`, policyFile);
    for (let i = 0; i < 200 && !w.audit().some((r) => r.type === 'policy.loaded' && r['reload'] === true); i++) await new Promise((r) => setTimeout(r, 25));
    expect(w.audit().some((r) => r.type === 'policy.loaded' && r['reload'] === true)).toBe(true);
    // An approver who still has the old card answers it.
    const answered = await w.control.allow(pending.id);
    expect(answered.status).not.toBe(200);
    expectRefusal(await call, 'approval_withdrawn');
    expect(w.upstreamCalls().some((c) => c.tool === 'transfer_funds')).toBe(false);
    expect(w.audit().find((r) => r.type === 'call.approval_withdrawn' && r['approvalId'] === pending.id)).toMatchObject({ reason: 'policy changed' });
  });
});
