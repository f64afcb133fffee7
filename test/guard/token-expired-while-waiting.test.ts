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

  /** A stdio call whose token expires `inMs` from NOW; the process token is `now()` when re-read. */
  const stdioCall = (inMs: number, now: () => ReturnType<typeof principal> | undefined | Promise<ReturnType<typeof principal> | undefined>) =>
    callRequest({ transport: 'stdio', principal: { ...principal(), expiresAt: (NOW + inMs) / 1000 }, currentPrincipal: now });

  async function approvedAfter(guard: ReturnType<typeof guardWithSubjects>['guard'], enforcement: ReturnType<typeof guardWithSubjects>['enforcement'], req: ReturnType<typeof callRequest>['req'], waitMs: number): Promise<GuardVerdict> {
    const waiting = Promise.resolve(guard.checkToolCall(req));
    await vi.advanceTimersByTimeAsync(0);
    const [pending] = await enforcement.approvals.listPending();
    if (!pending) throw new Error('expected a pending approval');
    await vi.advanceTimersByTimeAsync(waitMs);
    await enforcement.approvals.answer(pending.id, { kind: 'allow_once' }, { kind: 'admin', id: 'admin' });
    return waiting;
  }

  it('forwards an approved stdio call whose process token was refreshed for the same caller while it waited', async () => {
    // Over stdio the agent presents no token per call: warden's token file is refreshed beside it.
    // A call approved after the old token's exp is the same caller's, on the token in force now.
    const { guard, enforcement } = guardWithSubjects(decision());
    const fresh = { ...principal(), expiresAt: (NOW + 600_000) / 1000 };
    expect((await approvedAfter(guard, enforcement, stdioCall(10_000, () => fresh).req, 20_000)).kind).toBe('forward');
    const later = { ...principal(), expiresAt: (NOW + 600_000) / 1000 };
    expect((await approvedAfter(guard, enforcement, stdioCall(10_000, () => Promise.resolve(later)).req, 20_000)).kind).toBe('forward');
  });

  it('blocks an approved stdio call when the process token now is expired, invalid or another caller\'s (token swapped while waiting)', async () => {
    const { guard, enforcement, audit } = guardWithSubjects(decision());
    const stale = { ...principal(), expiresAt: (NOW + 10_000) / 1000 };
    expect(reasonOf(await approvedAfter(guard, enforcement, stdioCall(10_000, () => stale).req, 20_000))).toBe('token_expired');
    expect(reasonOf(await approvedAfter(guard, enforcement, stdioCall(10_000, () => undefined).req, 20_000))).toBe('token_expired');
    expect(reasonOf(await approvedAfter(guard, enforcement, stdioCall(10_000, () => Promise.reject(new Error('file gone'))).req, 20_000))).toBe('token_expired');
    const mallory = { ...principal('mallory'), expiresAt: (NOW + 600_000) / 1000 };
    expect(reasonOf(await approvedAfter(guard, enforcement, stdioCall(10_000, () => mallory).req, 20_000))).toBe('token_expired');
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
  });

  it('blocks an approved stdio call when the refreshed process token is itself revoked (revoked renewal)', async () => {
    // A revoked token still verifies (the guard knows revocations): the renewal must be in standing.
    const { guard, enforcement, registry, audit } = guardWithSubjects(decision());
    await registry.revoke({ email: 'alice@corp.example' }, { at: NOW, eventId: 'ev-revoke', reason: 'credential revoked', by: 'test' });
    const revoked = { ...principal(), claims: { email: 'alice@corp.example' }, expiresAt: (NOW + 600_000) / 1000 };
    expect(reasonOf(await approvedAfter(guard, enforcement, stdioCall(10_000, () => revoked).req, 20_000))).toBe('token_expired');
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
  });
});
