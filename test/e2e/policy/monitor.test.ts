import { afterEach, describe, expect, it } from 'vitest';
import { acmePolicy, decisions, startPolicyWarden, type PolicyWarden } from './policy-warden.js';

const codes = (d: Record<string, unknown> | undefined): string[] => ((d?.['reasons'] ?? []) as { code: string }[]).map((r) => r.code);

describe('monitor mode through a real warden', () => {
  let w: PolicyWarden | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it('mode: monitor forwards calls policy would block and records what would have happened', async () => {
    w = await startPolicyWarden(acmePolicy({ mode: 'monitor' }));
    // In a monitor policy, hide rules hide nothing.
    expect((await w.client.listTools()).tools.map((t) => t.name)).toContain('run_shell');

    const secret = await w.client.callTool({ name: 'read_file', arguments: { path: '/home/alice/.ssh/id_rsa' } });
    const payment = await w.client.callTool({ name: 'transfer_funds', arguments: { amount: 10, currency: 'EUR', payee: 'x' } });
    const shell = await w.client.callTool({ name: 'run_shell', arguments: { command: 'id' } });
    // Forwarded: the answers are the tool server's own (read_file has no such file; the others run).
    expect(secret.isError).toBe(true);
    expect(secret._meta).toBeUndefined();
    expect(payment).toMatchObject({ content: [{ type: 'text', text: 'transferred 10 EUR to x' }] });
    expect(shell.isError).toBeFalsy();
    expect(w.upstreamCalls().map((c) => c.tool)).toEqual(['read_file', 'transfer_funds', 'run_shell']);

    const [d1, d2, d3] = decisions(w.records());
    expect(d1).toMatchObject({ tool: 'read_file', mode: 'monitor', action: 'block', enforced: 'allow', rules: ['block-secret-files'] });
    expect(d2).toMatchObject({ tool: 'transfer_funds', mode: 'monitor', action: 'block', enforced: 'allow' });
    expect(codes(d2)).toContain('policy.implicit_critical');
    expect(d3).toMatchObject({ tool: 'run_shell', mode: 'monitor', action: 'block', enforced: 'allow', rules: ['hide-shell'] });
  });

  it('a rule with mode: monitor is a trial: its effect shows in action, enforced ignores it, other rules still enforce', async () => {
    w = await startPolicyWarden(acmePolicy({
      rules: [
        { id: 'block-secret-files', match: { tools: ['read_file'], arguments: [{ path: 'path', regex: '(^|/)\\.ssh/' }] }, action: 'block' },
        { id: 'trial-block-payroll', mode: 'monitor', match: { tools: ['read_file'], arguments: [{ path: 'path', glob: '/docs/payroll*' }] }, action: 'block' },
      ],
    }));
    await w.client.listTools();
    const payroll = await w.client.callTool({ name: 'read_file', arguments: { path: '/docs/payroll.csv' } });
    expect(payroll).toMatchObject({ content: [{ type: 'text', text: 'name,salary\nalice,100\nbob,90' }] });
    const secret = await w.client.callTool({ name: 'read_file', arguments: { path: '/home/alice/.ssh/id_rsa' } });
    expect(secret._meta).toMatchObject({ 'dev.mcp-warden/decision': { action: 'block', reason: 'policy_block' } });

    const [trial, enforced] = decisions(w.records(), 'read_file');
    expect(trial).toMatchObject({ mode: 'enforce', action: 'block', enforced: 'allow', rules: ['trial-block-payroll'] });
    expect(codes(trial)).toContain('policy.monitor_rule');
    expect(enforced).toMatchObject({ action: 'block', enforced: 'block', rules: ['block-secret-files'] });
    expect(codes(enforced)).not.toContain('policy.monitor_rule');
    // Only the trial-blocked call reached the server.
    expect(w.upstreamCalls()).toEqual([expect.objectContaining({ tool: 'read_file', arguments: { path: '/docs/payroll.csv' } })]);
  });
});
