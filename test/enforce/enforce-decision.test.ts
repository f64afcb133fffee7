import { describe, expect, it } from 'vitest';
import { DECISION_META_KEY } from '../../src/enforce/block-result.js';
import { enforceDecision, type EnforceDeps } from '../../src/enforce/enforce-decision.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { createThrottler } from '../../src/enforce/throttler.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { admin, managerFixture } from '../fixtures/enforce/manager-fixture.js';

function setup(throttle: Record<string, unknown> = {}) {
  const f = managerFixture();
  const deps: EnforceDeps = {
    throttler: createThrottler(ThrottleConfigSchema.parse({ buckets: [{ key: 'user_agent', ratePerMinute: 1, burst: 1 }], maxWaitMs: 0, maxConcurrentPerPrincipal: 1, ...throttle }), { clock: () => 1_000_000 }),
    approvals: f.manager,
    audit: f.audit,
  };
  return { f, deps };
}

function meta(v: GuardVerdict): Record<string, unknown> {
  if (v.kind !== 'respond') throw new Error(`expected respond, got ${v.kind}`);
  expect(v.result.isError).toBe(true);
  return (v.result._meta as Record<string, Record<string, unknown>>)[DECISION_META_KEY] as Record<string, unknown>;
}

describe('enforceDecision', () => {
  it('forwards allow and monitor-mode decisions', async () => {
    const { deps } = setup();
    expect(await enforceDecision(callRequest().req, decision({ action: 'allow', enforced: 'allow' }), deps)).toEqual({ kind: 'forward' });
    const monitored = decision({ action: 'block', enforced: 'allow', mode: 'monitor' });
    expect((await enforceDecision(callRequest().req, monitored, deps)).kind).toBe('forward');
  });

  it('answers a block with the block result and never forwards', async () => {
    const { deps } = setup();
    const { req } = callRequest();
    const v = await enforceDecision(req, decision({ action: 'block', enforced: 'block' }), deps);
    expect(meta(v)).toMatchObject({ action: 'block', reason: 'policy_block', callId: req.callId, rules: ['approve-writes'] });
  });

  it('throttle: forwards, holds the slot until the outcome, then rejects with retry-after', async () => {
    const { deps, f } = setup({ buckets: [], maxQueuedPerPrincipal: 0 });
    const throttled = decision({ action: 'throttle', enforced: 'throttle' });
    const first = await enforceDecision(callRequest().req, throttled, deps);
    expect(first.kind).toBe('forward');
    const busy = await enforceDecision(callRequest().req, throttled, deps);
    expect(meta(busy)).toMatchObject({ action: 'throttle', reason: 'throttle_rejected', retryAfterMs: 1_000 });
    if (first.kind === 'forward') first.onOutcome?.({ status: 'ok', durationMs: 1, resultBytes: 0, resultItems: 0, result: {} });
    expect((await enforceDecision(callRequest().req, throttled, deps)).kind).toBe('forward');
    expect(f.audit.events.filter((e) => e.type === 'call.throttle').map((e) => e.outcome)).toEqual(['admitted', 'rejected', 'admitted']);
  });

  it('throttle rejection by rate says when to retry', async () => {
    const { deps } = setup();
    const throttled = decision({ action: 'throttle', enforced: 'throttle' });
    await enforceDecision(callRequest().req, throttled, deps);
    expect(meta(await enforceDecision(callRequest().req, throttled, deps))).toMatchObject({ reason: 'throttle_rejected', retryAfterMs: 60_000 });
  });

  it('approve: forwards on allow, answers the denial with the approver reason otherwise', async () => {
    const { deps, f } = setup();
    let pending = f.nextPending();
    const allowed = enforceDecision(callRequest().req, decision(), deps);
    await f.manager.answer(await pending, { kind: 'allow_once' }, admin);
    expect((await allowed).kind).toBe('forward');
    pending = f.nextPending();
    const denied = enforceDecision(callRequest().req, decision(), deps);
    await f.manager.answer(await pending, { kind: 'deny', reason: 'ask Bob first' }, admin);
    const v = await denied;
    expect(meta(v)).toMatchObject({ action: 'approve', reason: 'approval_denied', approver: 'admin' });
    if (v.kind === 'respond') expect(JSON.stringify(v.result.content)).toContain('ask Bob first');
  });

  it('shows approvers the real arguments and the decision\'s reasons, and audits only the digest', async () => {
    const { deps, f } = setup();
    const pending = f.nextPending();
    const c = callRequest();
    const v = enforceDecision(c.req, decision(), deps);
    const record = await f.manager.getPending(await pending);
    expect(record).toMatchObject({ arguments: { path: '/tmp/x', content: 'secret-content' }, reasons: [{ code: 'sensitivity.high', detail: 'writes files' }] });
    // Redaction is for the audit log: the approval's records carry the digest, never the values.
    expect(JSON.stringify(f.audit.events)).not.toContain('secret-content');
    c.abort.abort();
    expect(meta(await v)).toMatchObject({ reason: 'approval_withdrawn' });
  });

  it('audits a refusal for an enforcement fault: the trail does not end at call.approval_requested (state store down)', async () => {
    // The call was blocked (internal), but the audit showed an approval asked for and nothing
    // after it: no answer, timeout, withdrawal or error, so nobody could tell what became of it.
    const { deps, f } = setup();
    f.store.set = async () => {
      throw new Error('state store down');
    };
    const { req } = callRequest();
    expect(meta(await enforceDecision(req, decision(), deps))).toMatchObject({ action: 'block', reason: 'internal' });
    const mine = f.audit.events.filter((e) => e.callId === req.callId);
    expect(mine.map((e) => e.type)).toEqual(['call.approval_requested', 'call.error']);
    expect(mine[1]).toMatchObject({ stage: 'enforce', code: 'internal', message: 'state store down' });
  });

  it('fails closed with reason internal when enforcement throws', async () => {
    const { deps, f } = setup();
    f.audit.fail = true;
    const v = await enforceDecision(callRequest().req, decision(), deps);
    expect(meta(v)).toMatchObject({ action: 'block', reason: 'internal' });
    const t = await enforceDecision(callRequest().req, decision({ action: 'throttle', enforced: 'throttle' }), deps);
    expect(meta(t)).toMatchObject({ reason: 'internal' });
  });
});
