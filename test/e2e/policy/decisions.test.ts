import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_META_KEY } from '../../../src/core/decision-meta.js';
import { acmePolicy, callRecords, decisions, startPolicyWarden, type PolicyWarden } from './policy-warden.js';

type Meta = { action: string; reason: string; callId: string; score: number; reasons: string[]; rules: string[]; policyHash: string };
const metaOf = (r: { _meta?: Record<string, unknown> }): Meta => r._meta?.[DECISION_META_KEY] as Meta;

describe('every tool call gets a decision from the configured policy (real warden)', () => {
  let w: PolicyWarden;
  beforeAll(async () => {
    w = await startPolicyWarden(acmePolicy());
    // Like a real agent, list first: warden then knows each tool's annotations (unknown ones
    // count as the spec's defaults, which raise echo from low to medium).
    await w.client.listTools();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('records risk (score, reasons, sensitivity) and a decision citing the loaded policy for allowed and blocked calls', async () => {
    const ok = await w.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    expect(ok.isError).toBeFalsy();
    const blocked = await w.client.callTool({ name: 'read_file', arguments: { path: '/home/alice/.ssh/id_rsa' } });
    const critical = await w.client.callTool({ name: 'transfer_funds', arguments: { amount: 10, currency: 'EUR', payee: 'x' } });
    const records = w.records();
    const loaded = records.find((r) => r.type === 'policy.loaded');
    expect(loaded?.['reload']).toBe(false);
    const hash = loaded?.['policyHash'];
    expect(hash).toMatch(/^sha256:/);

    const received = records.filter((r) => r.type === 'call.received');
    const decided = decisions(records);
    expect(received).toHaveLength(3);
    // One decision (and one risk record) per call, keyed by the same callId.
    expect(decided.map((d) => d.callId)).toEqual(received.map((r) => r.callId));
    for (const d of decided) {
      const steps = callRecords(records, d.callId!);
      const risk = steps.get('call.risk')!;
      expect(typeof risk['score']).toBe('number');
      expect((risk['reasons'] as { code: string }[]).length).toBeGreaterThan(0);
      expect(d['score']).toBe(risk['score']);
      expect(d['policyHash']).toBe(hash);
      expect(d['mode']).toBe('enforce');
    }
    const [echo, secret, payment] = decided;
    expect(echo).toMatchObject({ tool: 'echo', action: 'allow', enforced: 'allow', score: 5 });
    expect((echo!['reasons'] as { code: string }[]).map((r) => r.code)).toEqual(['sensitivity.low', 'novelty.tool']);
    expect(callRecords(records, echo!.callId!).get('call.forwarded')).toBeDefined();

    expect(secret).toMatchObject({ tool: 'read_file', action: 'block', enforced: 'block', rules: ['block-secret-files'] });
    expect(metaOf(blocked)).toMatchObject({ action: 'block', reason: 'policy_block', callId: secret!.callId, rules: ['block-secret-files'], policyHash: hash });

    // Critical without an allow rule: the default floor blocks it, and the reasons say so.
    expect(payment).toMatchObject({ tool: 'transfer_funds', action: 'block', enforced: 'block' });
    const codes = (payment!['reasons'] as { code: string }[]).map((r) => r.code);
    expect(codes).toEqual(expect.arrayContaining(['sensitivity.critical', 'policy.implicit_critical']));
    expect(metaOf(critical).reasons).toEqual(codes);
    expect(metaOf(critical).score).toBe(payment!['score']);

    // Blocked calls never reached the tool server.
    expect(w.upstreamCalls().map((c) => c.tool)).toEqual(['echo']);
  });

  it('a hidden tool is not listed, calling it is -32602 and the audit says hidden', async () => {
    const { tools } = await w.client.listTools();
    expect(tools.map((t) => t.name)).not.toContain('run_shell');
    await expect(w.client.callTool({ name: 'run_shell', arguments: { command: 'id' } })).rejects.toMatchObject({ code: -32602 });
    const hidden = decisions(w.records(), 'run_shell').at(-1);
    expect(hidden).toMatchObject({ action: 'block', enforced: 'block', hidden: true });
    expect(w.upstreamCalls().map((c) => c.tool)).not.toContain('run_shell');
  });
});
