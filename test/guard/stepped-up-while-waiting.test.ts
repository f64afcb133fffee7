import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import type { SubjectRegistry } from '../../src/events/subject-registry.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { guardWithSubjects } from '../helpers/guard-with-subjects.js';

/**
 * A step-up (assurance lowered, device non-compliant, risk raised) that arrives while a call
 * waits in warden (throttle queue, pending approval) must hold for that call too: it was judged
 * before the event, and forwarding it afterwards would run a high-sensitivity call with no human
 * (throttle) or against a step-up that blocks (approval answered anyway).
 */
function setup(d: Decision, stepUpAction: 'approve' | 'block' = 'approve') {
  return guardWithSubjects(d, { stepUpAction });
}

const reasonOf = (v: GuardVerdict | undefined): unknown => (v?.kind === 'respond' ? (v.result._meta as Record<string, { reason?: string }>)[DECISION_META_KEY]?.reason : v?.kind);
const stepUp = (registry: SubjectRegistry) => registry.stepUp({ user: 'alice' }, { at: Date.now(), eventId: 'evt-risk', reason: 'risk level raised' });

describe('guard: a step-up that arrives while a throttled call waits', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function queuedBehindFirst(d: Decision) {
    const s = setup(d);
    expect((await s.guard.checkToolCall(callRequest().req)).kind).toBe('forward');
    let settled: GuardVerdict | undefined;
    void Promise.resolve(s.guard.checkToolCall(callRequest().req)).then((v) => (settled = v));
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBeUndefined();
    return { ...s, settled: () => settled };
  }

  it('blocks a queued high-sensitivity call no human approved (step_up_required), audited, never forwarded', async () => {
    const s = await queuedBehindFirst(decision({ action: 'throttle', enforced: 'throttle', sensitivity: 'high' }));
    await stepUp(s.registry);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reasonOf(s.settled())).toBe('step_up_required');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(1);
    expect(s.audit.ofType('call.decision').at(-1)).toMatchObject({ action: 'block', enforced: 'block', reason: 'step_up_required', eventId: 'evt-risk' });
  });

  it('forwards a queued low-sensitivity call: the step-up is not for it', async () => {
    const s = await queuedBehindFirst(decision({ action: 'throttle', enforced: 'throttle', sensitivity: 'low' }));
    await stepUp(s.registry);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(s.settled()?.kind).toBe('forward');
  });
});

describe('guard: a step-up that arrives while a call waits for a human', () => {
  async function approvedAfterStepUp(action: 'approve' | 'block') {
    const s = setup(decision({ action: 'approve', enforced: 'approve', sensitivity: 'high' }), action);
    const waiting = Promise.resolve(s.guard.checkToolCall(callRequest().req));
    await new Promise((r) => setImmediate(r));
    const [pending] = await s.enforcement.approvals.listPending();
    if (!pending) throw new Error('expected a pending approval');
    await stepUp(s.registry);
    expect(await s.enforcement.approvals.answer(pending.id, { kind: 'allow_once' }, { kind: 'admin', id: 'admin' })).toMatchObject({ ok: true });
    return { ...s, verdict: await waiting };
  }

  it('blocks the approved call when the step-up blocks such calls', async () => {
    const s = await approvedAfterStepUp('block');
    expect(reasonOf(s.verdict)).toBe('step_up_required');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(0);
  });

  it('forwards the approved call when the step-up asks for a human: one answered it', async () => {
    const s = await approvedAfterStepUp('approve');
    expect(s.verdict.kind).toBe('forward');
  });
});
