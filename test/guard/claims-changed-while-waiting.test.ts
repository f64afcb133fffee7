import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import type { SubjectRegistry } from '../../src/events/subject-registry.js';
import { callRequest, decision, principal } from '../fixtures/enforce/call-fixtures.js';
import { guardWithSubjects } from '../helpers/guard-with-subjects.js';

/**
 * A token-claims-change (the IdP took alice out of `admins`, or took a scope away) that arrives
 * while a call waits in warden (throttle queue, pending approval) must reach that call: it was
 * judged with the claims alice no longer has, and the approver saw those claims. Forwarding it
 * afterwards ran a call on group membership or scopes the IdP had just withdrawn, while every
 * later request of the same token is judged with the new claims (or refused 403).
 */
const reasonOf = (v: GuardVerdict | undefined): unknown => (v?.kind === 'respond' ? (v.result._meta as Record<string, { reason?: string }>)[DECISION_META_KEY]?.reason : v?.kind);
const admin = () => ({ ...principal(), scopes: ['tools:call'], claims: { groups: ['admins'] } });
const demoted = (registry: SubjectRegistry) =>
  registry.overrideClaims({ issuer: 'https://idp.example', user: 'alice' }, { groups: ['staff'] }, { at: Date.now(), eventId: 'evt-claims', reason: 'token claims changed' });

describe('guard: a claims change that arrives while a throttled call waits', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function queuedBehindFirst(d: Decision) {
    const s = guardWithSubjects(d);
    expect((await s.guard.checkToolCall(callRequest({ principal: admin() }).req)).kind).toBe('forward');
    let settled: GuardVerdict | undefined;
    void Promise.resolve(s.guard.checkToolCall(callRequest({ principal: admin() }).req)).then((v) => (settled = v));
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBeUndefined();
    return { ...s, settled: () => settled };
  }

  it('blocks a queued call judged with group membership the IdP withdrew (claims_changed), audited, never forwarded', async () => {
    const s = await queuedBehindFirst(decision({ action: 'throttle', enforced: 'throttle', sensitivity: 'low' }));
    await demoted(s.registry);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reasonOf(s.settled())).toBe('claims_changed');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(1);
    expect(s.audit.ofType('call.decision').at(-1)).toMatchObject({ action: 'block', enforced: 'block', reason: 'claims_changed' });
  });

  it('forwards a queued call when no claims changed meanwhile (an override already in force when it was judged)', async () => {
    const s = guardWithSubjects(decision({ action: 'throttle', enforced: 'throttle', sensitivity: 'low' }));
    await demoted(s.registry);
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await s.guard.checkToolCall(callRequest({ principal: admin() }).req)).kind).toBe('forward');
    let settled: GuardVerdict | undefined;
    void Promise.resolve(s.guard.checkToolCall(callRequest({ principal: admin() }).req)).then((v) => (settled = v));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(settled?.kind).toBe('forward');
  });

  it('forwards a queued call of another user: the change is not theirs', async () => {
    const s = await queuedBehindFirst(decision({ action: 'throttle', enforced: 'throttle', sensitivity: 'low' }));
    await s.registry.overrideClaims({ issuer: 'https://idp.example', user: 'bob' }, { groups: [] }, { at: Date.now(), eventId: 'evt-bob', reason: 'x' });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(s.settled()?.kind).toBe('forward');
  });
});

describe('guard: a claims change that arrives while a call waits for a human', () => {
  it('blocks the call a human approved afterwards: the approver judged the claims alice had before', async () => {
    const s = guardWithSubjects(decision({ action: 'approve', enforced: 'approve', sensitivity: 'medium' }));
    const waiting = Promise.resolve(s.guard.checkToolCall(callRequest({ principal: admin() }).req));
    await new Promise((r) => setImmediate(r));
    const [pending] = await s.enforcement.approvals.listPending();
    if (!pending) throw new Error('expected a pending approval');
    await demoted(s.registry);
    expect(await s.enforcement.approvals.answer(pending.id, { kind: 'allow_once' }, { kind: 'admin', id: 'admin' })).toMatchObject({ ok: true });
    const verdict = await waiting;
    expect(reasonOf(verdict)).toBe('claims_changed');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(0);
  });
});
