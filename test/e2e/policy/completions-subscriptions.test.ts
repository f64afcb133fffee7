import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeJsonLines } from '../../../bench/fixtures/kill-under-load.js';
import {
  control, pendingApproval, readAudit, waitForRecord, wardenDir, type StdioWarden,
} from '../../helpers/audit-e2e-warden.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';
import { judgedRequestsWarden, refusalOf, stepsOf as stepsOfCall } from '../../helpers/judged-requests-e2e.js';
import { eventuallyResolves } from '../../helpers/progress.js';

/**
 * completion/complete and resources/subscribe through a real stdio warden, judged as calls of the
 * virtual tools `completion/complete` (arguments { ref, argument, context? }) and
 * `resources/subscribe` ({ uri }): policy rules, the rate signal, approvals and the call.* audit
 * records apply to them. ACME logs every completion and subscription it serves (ACME_READ_LOG),
 * so a refused one is proven never to have reached the upstream.
 */
const POLICY = `
version: "e2e-completions"
mode: enforce
defaults: { sensitivity: low, unclassifiedAction: allow, high: approve, critical: block }
thresholds: { throttle: 98, approve: 99, block: 100 }
anomalies:
  rate: { window: 1m, perTool: 12, overall: null, perUser: null, weight: 30 }
  novelty: { toolWeight: 0 }
sensitivity:
  - { tools: [completion/complete, resources/subscribe], level: low, class: read }
rules:
  - id: block-customer-completions
    match:
      tools: [completion/complete]
      arguments: [{ path: ref.name, regex: customer }, { path: argument.value, regex: '^Cust' }]
    action: block
  - id: approve-secret-completions
    match: { tools: [completion/complete], arguments: [{ path: ref.uri, regex: '^acme://files' }, { path: argument.value, regex: '^/secret' }] }
    action: approve
  - id: block-completion-enumeration
    match: { tools: [completion/complete], reasons: [rate.tool] }
    action: block
  - id: block-payroll-subscriptions
    match: { tools: [resources/subscribe], arguments: [{ path: uri, regex: payroll }] }
    action: block
  - id: approve-secret-subscriptions
    match: { tools: [resources/subscribe], arguments: [{ path: uri, regex: '^acme://files/secret/' }] }
    action: approve
`;

const REFUSED = -32010;
const d = wardenDir('warden-e2e-completions-');
const upstreamLog = join(d.dir, 'acme-requests.jsonl');
let w: StdioWarden;
let direct: ConnectedClient;

type Logged = { complete?: string; value?: string; subscribe?: string };
const completed = (): string[] => completeJsonLines<Logged>(upstreamLog).flatMap((r) => (r.complete === undefined ? [] : [`${r.complete}=${r.value}`]));
const subscribed = (): string[] => completeJsonLines<Logged>(upstreamLog).flatMap((r) => (r.subscribe === undefined ? [] : [r.subscribe]));
const stepsOf = (callId: unknown): string[] => stepsOfCall(d, callId);

const PROMPT_REF = { type: 'ref/prompt', name: 'summarize_customer' } as const;
const FILE_REF = { type: 'ref/resource', uri: 'acme://files{+path}' } as const;

beforeAll(async () => {
  ({ w, direct } = await judgedRequestsWarden(d, POLICY, upstreamLog));
}, 20_000);

afterAll(async () => {
  await Promise.allSettled([w?.close(), direct?.close()]);
});

describe('completion/complete is judged as the virtual tool completion/complete', () => {
  it('an allowed completion of a template variable is answered exactly as directly, and audited as a call of completion/complete with its ref and argument', async () => {
    const request = { ref: FILE_REF, argument: { name: 'path', value: '/docs' } };
    const through = await w.client.complete(request);
    expect(through).toEqual(await direct.client.complete(request));
    expect(through.completion.values.length).toBeGreaterThan(0);
    const received = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'completion/complete');
    expect(received).toMatchObject({ upstream: 'acme', args: request, principal: { anonymous: true } });
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === received.callId);
    expect(stepsOf(received.callId)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
    expect(readAudit(d.auditFile).find((r) => r.type === 'call.decision' && r.callId === received.callId)).toMatchObject({ action: 'allow', tool: 'completion/complete' });
    // Each completion value is one item of the volume signals.
    expect(readAudit(d.auditFile).find((r) => r.type === 'call.result' && r.callId === received.callId)).toMatchObject({ status: 'ok', resultItems: through.completion.values.length });
    expect(completed()).toContain('path=/docs');
  });

  it('an allowed completion of a prompt argument is answered exactly as directly', async () => {
    const request = { ref: PROMPT_REF, argument: { name: 'name', value: 'Ada' } };
    expect(await w.client.complete(request)).toEqual(await direct.client.complete(request));
    expect(completed()).toContain('name=Ada');
  });

  it('enumerating customers through completions of a prompt argument is blocked by policy and never reaches the upstream: -32010 with the decision in data', async () => {
    const err = await refusalOf(w.client.complete({ ref: PROMPT_REF, argument: { name: 'name', value: 'Customer 4' } }));
    expect(err.code).toBe(REFUSED);
    expect(err.data).toMatchObject({ action: 'block', reason: 'policy_block', rules: ['block-customer-completions'], callId: expect.any(String) });
    expect(err.message).toContain('mcp-warden blocked this completion/complete request by policy');
    expect(stepsOf(err.data.callId)).toEqual(['call.received', 'call.risk', 'call.decision']);
    expect(completed()).not.toContain('name=Customer 4');
  });

  it('a completion that needs approval waits, is forwarded once a human allows it, and the pending record says it is a completion', async () => {
    const request = { ref: FILE_REF, argument: { name: 'path', value: '/secret/pl' } };
    const pending = w.client.complete(request);
    const ap = (await pendingApproval(d, 'completion/complete')) as Awaited<ReturnType<typeof pendingApproval>> & { arguments: unknown; action: unknown };
    expect(ap).toMatchObject({ action: 'completion/complete', arguments: request });
    expect(completed()).not.toContain('path=/secret/pl');
    expect((await control(d, 'POST', `/approvals/${ap.id}/allow`, { argsDigest: ap.argsDigest, policyHash: ap.policyHash, callId: ap.callId })).status).toBe(200);
    expect((await pending).completion).toBeDefined();
    expect(completed()).toContain('path=/secret/pl');
  });

  it('a completion that needs approval is refused when the human denies it, and never reaches the upstream', async () => {
    const pending = refusalOf(w.client.complete({ ref: FILE_REF, argument: { name: 'path', value: '/secret/x' } }));
    const ap = await pendingApproval(d, 'completion/complete');
    expect((await control(d, 'POST', `/approvals/${ap.id}/deny`, { reason: 'no' })).status).toBe(200);
    const err = await pending;
    expect(err.code).toBe(REFUSED);
    expect(err.data).toMatchObject({ action: 'approve', reason: 'approval_denied', approvalId: ap.id });
    expect(completed()).not.toContain('path=/secret/x');
  });

  it('listing files prefix by prefix through completions (enumeration in a burst) is blocked by the rate limit, and the refused completions never reach the upstream', async () => {
    const outcomes: ('answered' | 'refused')[] = [];
    const refusedPrefixes: string[] = [];
    let firstRefused: { code: number; data: Record<string, unknown> } | undefined;
    for (let i = 0; i < 16; i++) {
      const value = `/enum-${i}`;
      try {
        await w.client.complete({ ref: FILE_REF, argument: { name: 'path', value } });
        outcomes.push('answered');
      } catch (err) {
        outcomes.push('refused');
        refusedPrefixes.push(value);
        firstRefused ??= err as { code: number; data: Record<string, unknown> };
      }
    }
    // 12 completions a minute (perTool), those above included: past it, every one is refused.
    expect(outcomes.indexOf('refused')).toBeGreaterThan(0);
    expect(outcomes.slice(outcomes.indexOf('refused')).every((o) => o === 'refused')).toBe(true);
    expect(firstRefused?.code).toBe(REFUSED);
    expect(firstRefused?.data).toMatchObject({ action: 'block', rules: expect.arrayContaining(['block-completion-enumeration']), reasons: expect.arrayContaining(['rate.tool']) });
    const served = completed();
    for (const value of refusedPrefixes) expect(served).not.toContain(`path=${value}`);
  });
});

describe('resources/subscribe is judged as the virtual tool resources/subscribe', () => {
  it('an allowed subscription is answered exactly as directly, and audited as a call of resources/subscribe with its URI', async () => {
    const uri = 'acme://files/docs/readme.txt';
    expect(await w.client.subscribeResource({ uri })).toEqual(await direct.client.subscribeResource({ uri }));
    const received = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'resources/subscribe');
    expect(received).toMatchObject({ upstream: 'acme', args: { uri }, principal: { anonymous: true } });
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === received.callId);
    expect(stepsOf(received.callId)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
    expect(readAudit(d.auditFile).some((r) => r.type === 'request.forwarded')).toBe(false);
    expect(subscribed()).toContain(uri);
  });

  it('watching a resource a policy rule blocks never reaches the upstream: -32010 with the decision in data', async () => {
    const uri = 'acme://files/docs/payroll.csv';
    const err = await refusalOf(w.client.subscribeResource({ uri }));
    expect(err.code).toBe(REFUSED);
    expect(err.data).toMatchObject({ action: 'block', reason: 'policy_block', rules: ['block-payroll-subscriptions'] });
    expect(err.message).toContain('mcp-warden blocked this resources/subscribe request by policy');
    expect(subscribed()).not.toContain(uri);
  });

  it('a subscription that needs approval is forwarded once a human allows it; the approver sees the URI and that it is a subscription', async () => {
    const uri = 'acme://files/secret/plan.txt';
    const pending = w.client.subscribeResource({ uri });
    const ap = (await pendingApproval(d, 'resources/subscribe')) as Awaited<ReturnType<typeof pendingApproval>> & { arguments: unknown; action: unknown };
    expect(ap).toMatchObject({ action: 'resources/subscribe', arguments: { uri } });
    expect(subscribed()).not.toContain(uri);
    expect((await control(d, 'POST', `/approvals/${ap.id}/allow`, { argsDigest: ap.argsDigest, policyHash: ap.policyHash, callId: ap.callId })).status).toBe(200);
    expect(await pending).toEqual({});
    expect(subscribed()).toContain(uri);
  });

  it('after an upstream restart, the allowed subscriptions are restored without asking again, and a refused one (smuggled into the restore) is not', async () => {
    const before = subscribed().length;
    await expect(w.client.callTool({ name: 'crash', arguments: {} })).rejects.toMatchObject({ code: -32000 });
    await eventuallyResolves(async () => {
      if (subscribed().length < before + 2) throw new Error('not restored yet');
    });
    const restored = subscribed().slice(before);
    expect(restored.sort()).toEqual(['acme://files/docs/readme.txt', 'acme://files/secret/plan.txt']);
    // Restored, not judged again: no new call of resources/subscribe, no new approval.
    expect(readAudit(d.auditFile).filter((r) => r.type === 'call.received' && r.tool === 'resources/subscribe')).toHaveLength(3);
  });
});
