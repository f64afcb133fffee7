import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { callRequest, decision, principal } from '../fixtures/enforce/call-fixtures.js';
import { guardWithSubjects } from '../helpers/guard-with-subjects.js';

/**
 * A call is authenticated when it arrives (HTTP: once per POST). One that then waits in warden
 * (a throttle queue, a human's answer) must not be forwarded on a token whose `exp` passed
 * meanwhile, and whatever it holds (a throttle slot) is given back.
 */
const NOW = 1_700_000_000_000;
const reasonOf = (v: GuardVerdict): unknown => (v.kind === 'respond' ? (v.result._meta as Record<string, { reason?: string }>)[DECISION_META_KEY]?.reason : v.kind);
/** A call whose token expires `inMs` from NOW. */
const expiringCall = (inMs: number) => callRequest({ principal: { ...principal(), expiresAt: (NOW + inMs) / 1000 } });

describe('guard: a token that expires while its call waits in warden', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('blocks a throttled call whose token expired while it waited for a token, and frees its slot', async () => {
    const d = decision({ action: 'throttle', enforced: 'throttle' });
    const { guard, audit, enforcement } = guardWithSubjects(d, { throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 60, burst: 1 }], maxWaitMs: 5_000, maxConcurrentPerPrincipal: 1 } });
    const first = await guard.checkToolCall(callRequest().req);
    if (first.kind !== 'forward') throw new Error('expected the first call to be forwarded');
    first.onOutcome?.({ status: 'ok', durationMs: 1, resultBytes: 0, resultItems: 0, result: {} });
    let settled: GuardVerdict | undefined;
    void Promise.resolve(guard.checkToolCall(expiringCall(500).req)).then((v) => (settled = v));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reasonOf(settled as GuardVerdict)).toBe('token_expired');
    expect(audit.ofType('call.forwarded')).toHaveLength(1);
    expect(audit.ofType('call.decision').at(-1)).toMatchObject({ enforced: 'block', reason: 'token_expired' });
    // Had the refused call kept the only slot, this one would wait for it instead of going at once.
    let got: { ok: boolean } | undefined;
    void enforcement.throttler.acquire(callRequest().req, d).then((r) => (got = r));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(got).toMatchObject({ ok: true });
  });

  it('blocks an approved call whose token expired before the approver answered', async () => {
    const { guard, audit, enforcement } = guardWithSubjects(decision());
    const waiting = Promise.resolve(guard.checkToolCall(expiringCall(10_000).req));
    await vi.advanceTimersByTimeAsync(0);
    const [pending] = await enforcement.approvals.listPending();
    if (!pending) throw new Error('expected a pending approval');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await enforcement.approvals.answer(pending.id, { kind: 'allow_once' }, { kind: 'admin', id: 'admin' })).toMatchObject({ ok: true });
    expect(reasonOf(await waiting)).toBe('token_expired');
    expect(audit.ofType('call.identity')).toMatchObject([{ ok: false, reason: 'token_expired' }]);
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
  });

  it('forwards an approved call whose token is still valid when the approver answers', async () => {
    const { guard, enforcement } = guardWithSubjects(decision());
    const waiting = Promise.resolve(guard.checkToolCall(expiringCall(10_000).req));
    await vi.advanceTimersByTimeAsync(0);
    const [pending] = await enforcement.approvals.listPending();
    await vi.advanceTimersByTimeAsync(9_000);
    await enforcement.approvals.answer(pending!.id, { kind: 'allow_once' }, { kind: 'admin', id: 'admin' });
    expect((await waiting).kind).toBe('forward');
  });
});
