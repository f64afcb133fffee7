import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { guardWithSubjects } from '../helpers/guard-with-subjects.js';

/**
 * A revocation must stop calls that are still waiting in warden (a throttle queue, an approval
 * being answered), not only calls that arrive later: a stdio session stays open after a
 * revocation, so nothing else cancels its queued calls.
 */
function setup(d: Decision, throttle?: Record<string, unknown>) {
  return guardWithSubjects(d, { throttle });
}

const reasonOf = (v: GuardVerdict): unknown => (v.kind === 'respond' ? (v.result._meta as Record<string, { reason?: string }>)[DECISION_META_KEY]?.reason : v.kind);

describe('guard: revocation of a call still waiting in warden', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('blocks a throttled call whose principal was revoked while it waited for a token', async () => {
    const { guard, audit, registry } = setup(decision({ action: 'throttle', enforced: 'throttle' }));
    const first = await guard.checkToolCall(callRequest().req);
    expect(first.kind).toBe('forward');
    let settled: GuardVerdict | undefined;
    void Promise.resolve(guard.checkToolCall(callRequest().req)).then((v) => (settled = v));
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBeUndefined(); // queued for the next token
    await registry.revokeManually({ user: 'alice' }, 'admin:test');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(settled).toBeDefined();
    expect(reasonOf(settled as GuardVerdict)).toBe('revoked');
    expect(audit.ofType('call.forwarded')).toHaveLength(1);
  });

  it('releases the concurrency slot of a call blocked for a revocation while it waited', async () => {
    const d = decision({ action: 'throttle', enforced: 'throttle' });
    const { guard, registry, enforcement } = setup(d, { buckets: [], maxConcurrentPerPrincipal: 1, maxWaitMs: 5_000 });
    const first = await guard.checkToolCall(callRequest().req);
    if (first.kind !== 'forward') throw new Error('expected the first call to be forwarded');
    const waiting = Promise.resolve(guard.checkToolCall(callRequest().req));
    await vi.advanceTimersByTimeAsync(100);
    await registry.revokeManually({ user: 'alice' }, 'admin:test');
    // The first call finishes: its slot passes to the waiting call, which is then blocked.
    first.onOutcome?.({ status: 'ok', durationMs: 1, resultBytes: 0, resultItems: 0, result: {} });
    expect(reasonOf(await waiting)).toBe('revoked');
    // Had the blocked call kept the only slot, this one would wait instead of going at once.
    let got: { ok: boolean } | undefined;
    void enforcement.throttler.acquire(callRequest().req, d).then((r) => (got = r));
    await vi.advanceTimersByTimeAsync(0);
    expect(got).toMatchObject({ ok: true });
  });
});

describe('guard: revocation of a call waiting for a human', () => {
  it('blocks an approved call whose principal was revoked before the approver answered', async () => {
    const { guard, audit, registry, enforcement } = setup(decision({ action: 'approve', enforced: 'approve' }));
    const waiting = Promise.resolve(guard.checkToolCall(callRequest().req));
    await new Promise((r) => setImmediate(r));
    const [pending] = await enforcement.approvals.listPending();
    if (!pending) throw new Error('expected a pending approval');
    // Revoked while the approval is pending; here no hook withdraws it, as in the moment between
    // an approver's answer being claimed and the call being released.
    await registry.revokeManually({ user: 'alice' }, 'admin:test');
    expect(await enforcement.approvals.answer(pending.id, { kind: 'allow_once' }, { kind: 'admin', id: 'admin' })).toMatchObject({ ok: true });
    expect(reasonOf(await waiting)).toBe('revoked');
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
  });
});
