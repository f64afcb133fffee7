import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFiles } from '../../../src/audit/verify-audit.js';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import type { ApprovalStream } from '../../helpers/enforcement-control.js';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { collectProgress, until } from '../../helpers/progress.js';

/**
 * Human approval through the real warden process over stdio: a real SDK agent calls ACME's
 * `write_file` (policy rule `approve-writes`), and a scripted approver answers through the control
 * API. Every denial path checks ACME's call log: the upstream never received the call.
 */
let w: EnforcementWarden;
let stream: ApprovalStream;

beforeAll(async () => {
  w = await startStdioWarden({ sections: { approvals: { timeoutMs: 30_000, progressIntervalMs: 500 } } });
  stream = await w.control.stream();
});
afterAll(async () => {
  stream?.close();
  await w?.close();
});

const write = (path: string, content = 'x', options: { signal?: AbortSignal } = {}) =>
  w.client.callTool({ name: 'write_file', arguments: { path, content } }, undefined, options);
const writesTo = (path: string) => w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path);
const forPath = (path: string) => (p: { tool: string; arguments: unknown }) =>
  p.tool === 'write_file' && (p.arguments as { path?: string }).path === path;
const auditOf = (callId: string) => w.audit().filter((r) => r.callId === callId);

describe('approval over stdio: scripted approver on the control API', () => {
  it('holds the call until the approver allows it once, then forwards it exactly once', async () => {
    const call = write('/e2e/approve.txt', 'hello');
    const pending = await w.control.waitForPending(forPath('/e2e/approve.txt'), call);
    expect(pending).toMatchObject({ upstream: 'acme', tool: 'write_file', rules: ['approve-writes'], argsDigest: expect.stringMatching(/^sha256:/), expiresInMs: expect.any(Number) });
    expect(pending.principal.user).toBeTruthy();
    expect(writesTo('/e2e/approve.txt')).toEqual([]); // held: nothing reached ACME yet
    const answer = await w.control.allow(pending.id);
    expect(answer).toEqual({ status: 200, body: { ok: true, id: pending.id } });
    expectUpstreamText(await call, 'wrote 5 bytes to /e2e/approve.txt');
    expect(writesTo('/e2e/approve.txt')).toHaveLength(1);
    const types = auditOf(pending.callId).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['call.decision', 'call.approval_requested', 'call.approval_answered', 'call.forwarded', 'call.result']));
    // The approval is answered (and on disk) before the call is forwarded.
    expect(types.indexOf('call.approval_answered')).toBeLessThan(types.indexOf('call.forwarded'));
    const answered = auditOf(pending.callId).find((r) => r.type === 'call.approval_answered');
    expect(answered).toMatchObject({ approvalId: pending.id, outcome: 'allow_once', approver: { kind: 'admin', id: 'admin' } });
    await stream.waitFor((e) => e.event === 'resolved' && e.data.id === pending.id && e.data.outcome === 'allow_once');
  });

  it('denies with the approver\'s reason; the upstream never sees the call', async () => {
    const call = write('/e2e/deny.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/deny.txt'), call);
    expect((await w.control.deny(pending.id, { reason: 'use staging' })).status).toBe(200);
    const result = await call;
    const decision = expectRefusal(result, 'approval_denied');
    expect(decision).toMatchObject({ action: 'approve', callId: pending.callId, approvalId: pending.id, approver: 'admin', rules: ['approve-writes'], policyHash: pending.policyHash });
    expect(JSON.stringify(result.content)).toContain('use staging');
    expect(writesTo('/e2e/deny.txt')).toEqual([]);
    expect(auditOf(pending.callId).find((r) => r.type === 'call.approval_answered')).toMatchObject({ outcome: 'deny', reason: 'use staging', approver: { kind: 'admin' } });
    expect(auditOf(pending.callId).some((r) => r.type === 'call.forwarded')).toBe(false);
  });

  it('sends progress with the agent\'s own token while the call waits for a human', async () => {
    const seen = collectProgress(w.client);
    const call = w.client.request(
      { method: 'tools/call', params: { name: 'write_file', arguments: { path: '/e2e/progress.txt', content: 'x' }, _meta: { progressToken: 'agent-token-42' } } },
      CallToolResultSchema,
    );
    const pending = await w.control.waitForPending(forPath('/e2e/progress.txt'), call);
    await until(() => seen.length >= 3, 8_000);
    expect(writesTo('/e2e/progress.txt')).toEqual([]);
    expect((await w.control.allow(pending.id)).status).toBe(200);
    expectUpstreamText(await call, 'wrote 1 bytes to /e2e/progress.txt');
    for (const p of seen) {
      expect(p.progressToken).toBe('agent-token-42');
      expect(p.message).toMatch(/waiting for approval, \d+ s left/);
      expect(p.total).toBe(30);
    }
    // Spec: progress increases with every notification.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
  });

  it('lets exactly one of two racing answers win (the other gets 409 already_decided)', async () => {
    const call = write('/e2e/race.txt');
    const pending = await w.control.waitForPending(forPath('/e2e/race.txt'), call);
    const answers = await Promise.all([w.control.allow(pending.id), w.control.deny(pending.id, { reason: 'racing' })]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 409)!.body).toMatchObject({ error: 'already_decided' });
    const result = await call;
    const allowWon = answers[0]!.status === 200;
    if (allowWon) {
      expectUpstreamText(result, 'wrote 1 bytes to /e2e/race.txt');
      expect(writesTo('/e2e/race.txt')).toHaveLength(1);
    } else {
      expectRefusal(result, 'approval_denied');
      expect(writesTo('/e2e/race.txt')).toEqual([]);
    }
    expect(auditOf(pending.callId).filter((r) => r.type === 'call.approval_answered')).toHaveLength(1);
  });

  it('refuses an answer bound to a different argument digest or policy (binding_mismatch), and a replayed answer', async () => {
    const callA = write('/e2e/bind-a.txt', 'aaa');
    const callB = write('/e2e/bind-b.txt', 'bbb');
    const a = await w.control.waitForPending(forPath('/e2e/bind-a.txt'), callA);
    const b = await w.control.waitForPending(forPath('/e2e/bind-b.txt'), callB);
    expect(a.argsDigest).not.toBe(b.argsDigest);
    // What the approver saw for B, replayed onto A's request: refused and not consumed.
    const crossed = await w.control.allow(a.id, { argsDigest: b.argsDigest, policyHash: b.policyHash, callId: b.callId });
    expect(crossed).toMatchObject({ status: 409, body: { error: 'binding_mismatch' } });
    expect((await w.control.allow(a.id, { argsDigest: a.argsDigest, policyHash: 'sha256:0000' })).body).toMatchObject({ error: 'binding_mismatch' });
    expect((await w.control.allow(a.id, { callId: b.callId })).body).toMatchObject({ error: 'binding_mismatch' });
    expect((await w.control.request('GET', `/approvals/${a.id}`)).status).toBe(200);
    expect(w.upstreamCalls().filter((c) => c.tool === 'write_file' && String(c.arguments.path).startsWith('/e2e/bind-'))).toEqual([]);
    // The matching binding is accepted; A runs, B is still held.
    expect((await w.control.allow(a.id, { argsDigest: a.argsDigest, policyHash: a.policyHash, callId: a.callId })).status).toBe(200);
    expectUpstreamText(await callA, 'wrote 3 bytes to /e2e/bind-a.txt');
    // Replaying A's approval (used once) cannot release anything else.
    expect(await w.control.allow(a.id)).toMatchObject({ status: 409, body: { error: 'already_decided' } });
    expect((await w.control.request('GET', `/approvals/${b.id}`)).status).toBe(200);
    expect(writesTo('/e2e/bind-b.txt')).toEqual([]);
    expect((await w.control.deny(b.id)).status).toBe(200);
    expectRefusal(await callB, 'approval_denied');
    expect(writesTo('/e2e/bind-b.txt')).toEqual([]);
    expect(writesTo('/e2e/bind-a.txt')).toHaveLength(1);
  });

  it('withdraws the request when the agent cancels while it is pending; the upstream never runs it', async () => {
    const abort = new AbortController();
    const call = write('/e2e/cancel.txt', 'x', { signal: abort.signal });
    const settled = call.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    const pending = await w.control.waitForPending(forPath('/e2e/cancel.txt'), call);
    abort.abort('agent changed its mind');
    expect(await settled).not.toBe('resolved');
    const resolved = await stream.waitFor((e) => e.event === 'resolved' && e.data.id === pending.id);
    expect(resolved.data).toMatchObject({ outcome: 'withdrawn' });
    expect((await w.control.request('GET', `/approvals/${pending.id}`)).status).toBe(404);
    // A late approval of the withdrawn request changes nothing.
    expect(await w.control.allow(pending.id)).toMatchObject({ status: 409, body: { error: 'already_decided' } });
    await until(() => auditOf(pending.callId).some((r) => r.type === 'call.approval_withdrawn'));
    expect(auditOf(pending.callId).some((r) => r.type === 'call.forwarded')).toBe(false);
    expect(writesTo('/e2e/cancel.txt')).toEqual([]);
    // The session is still healthy afterwards.
    expectUpstreamText(await w.client.callTool({ name: 'echo', arguments: { message: 'still here' } }), 'still here');
  });

  it('reuses a grant bound to the same arguments only, and asks again once it is revoked', async () => {
    const first = write('/e2e/grant.txt', 'same');
    const pending = await w.control.waitForPending(forPath('/e2e/grant.txt'), first);
    const answer = await w.control.allow(pending.id, { rememberMinutes: 5, matchArguments: true });
    expect(answer.body).toMatchObject({ ok: true, grant: { tool: 'write_file', argsDigest: pending.argsDigest, id: expect.stringMatching(/^grt_/) } });
    expectUpstreamText(await first, 'wrote 4 bytes to /e2e/grant.txt');
    // Same arguments: allowed by the grant without asking anyone.
    expectUpstreamText(await write('/e2e/grant.txt', 'same'), 'wrote 4 bytes to /e2e/grant.txt');
    expect(w.audit().some((r) => r.type === 'call.approval_answered' && r.outcome === 'allowed_by_grant')).toBe(true);
    // Different arguments: the grant does not cover them, a human is asked again.
    const other = write('/e2e/grant.txt', 'different');
    const again = await w.control.waitForPending((p) => forPath('/e2e/grant.txt')(p) && p.id !== pending.id, other);
    expect(again.argsDigest).not.toBe(pending.argsDigest);
    expect((await w.control.deny(again.id)).status).toBe(200);
    expectRefusal(await other, 'approval_denied');
    // Revoked: the same arguments are held again.
    const grantId = (answer.body.grant as { id: string }).id;
    expect((await w.control.request('DELETE', `/grants/${grantId}`)).body).toMatchObject({ ok: true, revoked: { id: grantId } });
    expect(await w.control.grants()).toEqual([]);
    const third = write('/e2e/grant.txt', 'same');
    const held = await w.control.waitForPending((p) => forPath('/e2e/grant.txt')(p) && p.id !== pending.id && p.id !== again.id, third);
    expect((await w.control.deny(held.id)).status).toBe(200);
    expectRefusal(await third, 'approval_denied');
    expect(writesTo('/e2e/grant.txt').map((c) => c.arguments.content)).toEqual(['same', 'same']);
    expect(w.audit().filter((r) => r.type === 'grant.revoked' && r.grantId === grantId)).toHaveLength(1);
  });

  it('records every approval step in the hash-chained audit log next to the config', async () => {
    const report = verifyAuditFiles([w.auditFile]);
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
    const records = w.audit();
    const types = new Set(records.map((r) => r.type));
    for (const t of ['call.approval_requested', 'call.approval_answered', 'call.approval_withdrawn', 'grant.created', 'grant.revoked']) expect(types).toContain(t);
    // Every human answer names who gave it.
    const answered = records.filter((r) => r.type === 'call.approval_answered' && r.outcome !== 'allowed_by_grant');
    expect(answered.length).toBeGreaterThanOrEqual(5);
    for (const r of answered) expect(r.approver).toEqual({ kind: 'admin', id: 'admin' });
    // Each request is recorded bound to the digest of its exact arguments.
    for (const r of records.filter((x) => x.type === 'call.approval_requested')) expect(r.argsDigest).toMatch(/^sha256:/);
  });
});
