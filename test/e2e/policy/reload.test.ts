import { afterEach, describe, expect, it } from 'vitest';
import { matchShape } from '../../helpers/audit-field-spec.js';
import { acmePolicy, decisions, startPolicyWarden, writePolicy, type AuditRecord, type PolicyWarden } from './policy-warden.js';

/** The starting policy allows echo; the edited one blocks it by a rule. */
const allowEcho = acmePolicy({ version: 'v1' });
const blockEcho = acmePolicy({
  version: 'v2',
  rules: [...(acmePolicy().rules as unknown[]), { id: 'no-echo', match: { tools: ['echo'] }, action: 'block' }],
});
const echo = (w: PolicyWarden) => w.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
const lastEcho = (w: PolicyWarden): AuditRecord => decisions(w.records(), 'echo').at(-1)!;
const loads = (w: PolicyWarden): AuditRecord[] => w.records().filter((r) => r.type === 'policy.loaded');

describe('policy hot reload through a real warden', () => {
  let w: PolicyWarden | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it('an edited policy file is used from the next call (watch), recorded as policy.loaded reload: true', async () => {
    w = await startPolicyWarden(allowEcho, { watch: true });
    expect((await echo(w)).isError).toBeFalsy();
    const first = lastEcho(w);
    expect(first).toMatchObject({ action: 'allow' });

    writePolicy(w.policyFile, blockEcho);
    const reloaded = await w.waitForRecord((r) => r.type === 'policy.loaded' && r['reload'] === true);
    expect(reloaded['policyHash']).not.toBe(first['policyHash']);

    const after = await echo(w);
    expect(after._meta).toMatchObject({ 'dev.mcp-warden/decision': { action: 'block', reason: 'policy_block', rules: ['no-echo'] } });
    expect(lastEcho(w)).toMatchObject({ action: 'block', enforced: 'block', rules: ['no-echo'], policyHash: reloaded['policyHash'] });
    expect(w.upstreamCalls().map((c) => c.tool)).toEqual(['echo']);
  });

  it('SIGHUP reloads (watch off: an edit alone changes nothing until the signal)', async () => {
    w = await startPolicyWarden(allowEcho, { watch: false });
    await echo(w);
    writePolicy(w.policyFile, blockEcho);
    // Without watching, the running policy stays until asked: wait past the watch debounce
    // (200 ms), then a call proves the old policy is still in force.
    await new Promise((r) => setTimeout(r, 500));
    expect((await echo(w)).isError).toBeFalsy();
    expect(loads(w)).toHaveLength(1);

    process.kill(w.pid, 'SIGHUP');
    const reloaded = await w.waitForRecord((r) => r.type === 'policy.loaded' && r['reload'] === true);
    expect((await echo(w)).isError).toBe(true);
    expect(lastEcho(w)).toMatchObject({ action: 'block', rules: ['no-echo'], policyHash: reloaded['policyHash'] });
  });

  it('a call still waiting in the throttle queue when a policy that blocks it is loaded is not forwarded', async () => {
    // Every echo is throttled (default buckets: 5 at once, then one every 2 s; waits up to 5 s).
    const throttleEcho = acmePolicy({ version: 'v1', rules: [...(acmePolicy().rules as unknown[]), { id: 'slow-echo', match: { tools: ['echo'] }, action: 'throttle' }] });
    w = await startPolicyWarden(throttleEcho, { watch: false });
    for (let i = 0; i < 5; i++) expect((await echo(w)).isError).toBeFalsy();
    const waiting = echo(w);
    await w.waitForRecord((r) => r.type === 'call.decision' && r['tool'] === 'echo' && decisions(w!.records(), 'echo').length === 6);
    // The operator blocks echo (an agent is misusing it) while the sixth call waits for a token.
    writePolicy(w.policyFile, blockEcho);
    process.kill(w.pid, 'SIGHUP');
    await w.waitForRecord((r) => r.type === 'policy.loaded' && r['reload'] === true);
    const r = await waiting;
    expect(r.isError).toBe(true);
    expect(r._meta).toMatchObject({ 'dev.mcp-warden/decision': { reason: 'policy_changed' } });
    expect(w.upstreamCalls()).toHaveLength(5);
    const loaded = w.records().filter((x) => x.type === 'policy.loaded').at(-1)!;
    const refused = w.records().find((x) => x.type === 'call.decision' && x['reason'] === 'policy_changed')!;
    expect(refused).toMatchObject({ action: 'block', enforced: 'block', tool: 'echo', policyHash: loaded['policyHash'] });
    expect(matchShape(refused)).toEqual({ ok: true, shape: 'policy-changed' });
    // The agent calls again: the new policy judges it.
    expect((await echo(w))._meta).toMatchObject({ 'dev.mcp-warden/decision': { reason: 'policy_block', rules: ['no-echo'] } });
  });

  it('an invalid edit keeps the old policy in force and is recorded as policy.reload_failed', async () => {
    w = await startPolicyWarden(allowEcho, { watch: true });
    await echo(w);
    const original = loads(w)[0]!['policyHash'];
    // A typo'd key (strict schema) that would otherwise block echo: it must not half-apply.
    writePolicy(w.policyFile, { ...blockEcho, rulez: [] });
    const failed = await w.waitForRecord((r) => r.type === 'policy.reload_failed');
    expect(failed['keptPolicyHash']).toBe(original);
    expect(String(failed['error'])).toContain('rulez');

    // SIGHUP with the file still invalid: a second failure, same policy kept.
    process.kill(w.pid, 'SIGHUP');
    await w.waitForRecord((r) => r.type === 'policy.reload_failed' && r.seq > failed.seq);

    expect((await echo(w)).isError).toBeFalsy();
    expect(lastEcho(w)).toMatchObject({ action: 'allow', policyHash: original });
    expect(loads(w)).toHaveLength(1);
    expect(w.upstreamCalls().map((c) => c.tool)).toEqual(['echo', 'echo']);
  });
});
