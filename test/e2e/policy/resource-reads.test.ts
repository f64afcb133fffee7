import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeJsonLines } from '../../../bench/fixtures/kill-under-load.js';
import {
  control, pendingApproval, readAudit, waitForRecord, wardenDir, type StdioWarden,
} from '../../helpers/audit-e2e-warden.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';
import { judgedRequestsWarden, refusalOf, stepsOf as stepsOfCall } from '../../helpers/judged-requests-e2e.js';

/**
 * resources/read through a real stdio warden, judged as a call of the virtual tool
 * `resources/read` with arguments { uri }: policy rules, the rate signal, approvals and the call.*
 * audit records apply to it. ACME logs every read it serves (ACME_READ_LOG), so a refused read
 * is proven never to have reached the upstream.
 */
const POLICY = `
version: "e2e-reads"
mode: enforce
defaults: { sensitivity: low, unclassifiedAction: allow, high: approve, critical: block }
thresholds: { throttle: 98, approve: 99, block: 100 }
anomalies:
  rate: { window: 1m, perTool: 12, overall: null, perUser: null, weight: 30 }
  novelty: { toolWeight: 0 }
sensitivity:
  - { tools: [resources/read], level: low, class: read }
rules:
  # As the README advises: spellings a server may resolve elsewhere are refused outright, and the
  # custom scheme is matched ignoring case and repeated slashes.
  - id: block-ambiguous-uris
    match: { tools: [resources/read], arguments: [{ path: uri, regex: '%|\\\\|/\\.{1,2}([/?#]|$)' }] }
    action: block
  - id: block-payroll-reads
    match: { tools: [resources/read], arguments: [{ path: uri, regex: '^acme:/+files/+docs/+payroll', nocase: true }] }
    action: block
  - id: approve-secret-reads
    match: { tools: [resources/read], arguments: [{ path: uri, regex: '^acme://files/secret/' }] }
    action: approve
  - id: block-read-bursts
    match: { tools: [resources/read], reasons: [rate.tool] }
    action: block
  - id: block-prompts-about-mallory
    match: { tools: [prompts/get], arguments: [{ path: arguments.name, eq: Mallory }] }
    action: block
  - id: approve-prompts-about-grace
    match: { tools: [prompts/get], arguments: [{ path: arguments.name, eq: Grace }] }
    action: approve
`;

const REFUSED = -32010;
const d = wardenDir('warden-e2e-reads-');
const readLog = join(d.dir, 'acme-reads.jsonl');
let w: StdioWarden;
let direct: ConnectedClient;

const reads = (): string[] => completeJsonLines<{ uri?: string }>(readLog).flatMap((r) => (r.uri === undefined ? [] : [r.uri]));
const prompts = (): unknown[] => completeJsonLines<{ prompt?: string; arguments?: unknown }>(readLog).flatMap((r) => (r.prompt === undefined ? [] : [r.arguments]));
const receivedFor = (uri: string) => waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'resources/read' && (r.args as { uri?: string }).uri === uri);
const stepsOf = (callId: unknown): string[] => stepsOfCall(d, callId);

beforeAll(async () => {
  ({ w, direct } = await judgedRequestsWarden(d, POLICY, readLog));
}, 20_000);

afterAll(async () => {
  await Promise.allSettled([w?.close(), direct?.close()]);
});

describe('resources/read is judged as the virtual tool resources/read', () => {
  it('an allowed read is answered exactly as directly, and audited as a call of resources/read with its URI', async () => {
    const uri = 'acme://files/docs/readme.txt';
    const through = await w.client.readResource({ uri });
    expect(through).toEqual(await direct.client.readResource({ uri }));
    const received = await receivedFor(uri);
    expect(received).toMatchObject({ upstream: 'acme', tool: 'resources/read', args: { uri }, principal: { anonymous: true } });
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === received.callId);
    expect(stepsOf(received.callId)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
    expect(readAudit(d.auditFile).find((r) => r.type === 'call.decision' && r.callId === received.callId)).toMatchObject({ action: 'allow', tool: 'resources/read' });
    expect(readAudit(d.auditFile).find((r) => r.type === 'call.result' && r.callId === received.callId)).toMatchObject({ status: 'ok', resultItems: 1 });
    // Judged and recorded as a call: no separate request.forwarded for the read any more.
    expect(readAudit(d.auditFile).some((r) => r.type === 'request.forwarded' && r.uri === uri)).toBe(false);
  });

  it('a read of a resource a policy rule blocks never reaches the upstream: -32010 with the decision in data', async () => {
    const uri = 'acme://files/docs/payroll.csv';
    const err = await refusalOf(w.client.readResource({ uri }));
    expect(err.code).toBe(REFUSED);
    expect(err.data).toMatchObject({ action: 'block', reason: 'policy_block', rules: ['block-payroll-reads'], callId: expect.any(String) });
    expect(err.message).toContain('mcp-warden blocked this resources/read request by policy. Rules: block-payroll-reads');
    const received = await receivedFor(uri);
    expect(received.callId).toBe(err.data.callId);
    expect(stepsOf(received.callId)).toEqual(['call.received', 'call.risk', 'call.decision']);
    expect(reads()).not.toContain(uri);
  });

  it('reading a blocked resource spelt differently (scheme case, slashes, dot segments, percent-encoding, backslashes) is refused too, never reaching the upstream', async () => {
    const spellings: Array<[string, string]> = [
      ['ACME://Files/Docs/Payroll.csv', 'block-payroll-reads'],
      ['acme://files//docs/payroll.csv', 'block-payroll-reads'],
      ['acme://files/docs/./payroll.csv', 'block-ambiguous-uris'],
      ['acme://files/x/../docs/payroll.csv', 'block-ambiguous-uris'],
      ['acme://files/docs/%70ayroll.csv', 'block-ambiguous-uris'],
      ['acme://files\\docs\\payroll.csv', 'block-ambiguous-uris'],
    ];
    for (const [uri, rule] of spellings) {
      const err = await refusalOf(w.client.readResource({ uri }));
      expect(err.code).toBe(REFUSED);
      expect(err.data).toMatchObject({ action: 'block', rules: expect.arrayContaining([rule]) });
      expect(reads()).not.toContain(uri);
    }
  });

  it('a read that needs approval waits, and is forwarded once a human allows it; the approver sees the URI', async () => {
    const uri = 'acme://files/secret/plan-a.txt';
    const pending = w.client.readResource({ uri });
    const ap = (await pendingApproval(d, 'resources/read')) as Awaited<ReturnType<typeof pendingApproval>> & { arguments: unknown };
    expect(ap.arguments).toEqual({ uri });
    expect(reads()).not.toContain(uri);
    expect((await control(d, 'POST', `/approvals/${ap.id}/allow`, { argsDigest: ap.argsDigest, policyHash: ap.policyHash, callId: ap.callId })).status).toBe(200);
    expect((await pending).contents).toEqual([{ uri, text: '' }]);
    expect(reads()).toContain(uri);
  });

  it('a read that needs approval is refused when the human denies it, and never reaches the upstream', async () => {
    const uri = 'acme://files/secret/plan-b.txt';
    const pending = refusalOf(w.client.readResource({ uri }));
    const ap = await pendingApproval(d, 'resources/read');
    expect((await control(d, 'POST', `/approvals/${ap.id}/deny`, { reason: 'not this one' })).status).toBe(200);
    const err = await pending;
    expect(err.code).toBe(REFUSED);
    expect(err.data).toMatchObject({ action: 'approve', reason: 'approval_denied', approvalId: ap.id });
    expect(err.message).toContain('not this one');
    expect(reads()).not.toContain(uri);
  });

  it('bulk-reading resources in a burst (exfiltration by resources/read) is blocked by the rate limit, and the refused reads never reach the upstream', async () => {
    const outcomes: ('read' | 'refused')[] = [];
    let firstRefused: { code: number; data: Record<string, unknown> } | undefined;
    const refusedUris: string[] = [];
    for (let i = 0; i < 16; i++) {
      const uri = `acme://files/docs/bulk-${i}.txt`;
      try {
        await w.client.readResource({ uri });
        outcomes.push('read');
      } catch (err) {
        outcomes.push('refused');
        refusedUris.push(uri);
        firstRefused ??= err as { code: number; data: Record<string, unknown> };
      }
    }
    // 12 reads a minute (perTool), the reads above included: past it, every read is refused.
    expect(outcomes.indexOf('refused')).toBeGreaterThan(0);
    expect(outcomes.slice(outcomes.indexOf('refused')).every((o) => o === 'refused')).toBe(true);
    expect(firstRefused?.code).toBe(REFUSED);
    expect(firstRefused?.data).toMatchObject({ action: 'block', reason: 'policy_block', rules: ['block-read-bursts'], reasons: expect.arrayContaining(['rate.tool']) });
    const served = reads();
    for (const uri of refusedUris) expect(served).not.toContain(uri);
  });
});

describe('prompts/get is judged as the virtual tool prompts/get', () => {
  const get = (name: string) => ({ name: 'summarize_customer', arguments: { name } });

  it('an allowed get is answered exactly as directly, and audited as a call of prompts/get with the name and arguments', async () => {
    expect(await w.client.getPrompt(get('Ada'))).toEqual(await direct.client.getPrompt(get('Ada')));
    const received = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'prompts/get');
    expect(received).toMatchObject({ upstream: 'acme', args: { name: 'summarize_customer', arguments: { name: 'Ada' } } });
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === received.callId);
    expect(stepsOf(received.callId)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
    expect(readAudit(d.auditFile).find((r) => r.type === 'call.result' && r.callId === received.callId)).toMatchObject({ status: 'ok', resultItems: 1 });
    expect(readAudit(d.auditFile).some((r) => r.type === 'request.forwarded')).toBe(false);
  });

  it('a get a policy rule blocks by its arguments never reaches the upstream: -32010 with the decision in data', async () => {
    const err = await refusalOf(w.client.getPrompt(get('Mallory')));
    expect(err.code).toBe(REFUSED);
    expect(err.data).toMatchObject({ action: 'block', reason: 'policy_block', rules: ['block-prompts-about-mallory'] });
    expect(prompts()).not.toContainEqual({ name: 'Mallory' });
  });

  it('a get that needs approval is forwarded once a human allows it; the approver sees the prompt and its arguments', async () => {
    const pending = w.client.getPrompt(get('Grace'));
    const ap = (await pendingApproval(d, 'prompts/get')) as Awaited<ReturnType<typeof pendingApproval>> & { arguments: unknown };
    expect(ap.arguments).toEqual({ name: 'summarize_customer', arguments: { name: 'Grace' } });
    expect(prompts()).not.toContainEqual({ name: 'Grace' });
    expect((await control(d, 'POST', `/approvals/${ap.id}/allow`, { argsDigest: ap.argsDigest, policyHash: ap.policyHash, callId: ap.callId })).status).toBe(200);
    expect((await pending).messages).toHaveLength(1);
    expect(prompts()).toContainEqual({ name: 'Grace' });
  });
});
