import { describe, expect, it } from 'vitest';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { buildBlockResult } from '../../src/enforce/block-result.js';
import { createEnforcement } from '../../src/enforce/enforcement.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { DEFAULT_REGISTRY_SETTINGS, SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { asyncOnly } from '../helpers/async-only-store.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';

/**
 * A step-up that asks for a human (stepUp.action approve) never lets a remembered grant answer
 * for its subject: the guard asks with grants off when the step-up is in force at the decision.
 * But the grant is looked up in the state store, which takes a moment (a round trip with a shared
 * store): a step-up that comes into force during that lookup found the call already decided, the
 * grant answered, and the after-wait check let it through as if a person had approved it.
 */
function setup() {
  const audit = createRecordingAudit();
  const memory = new MemoryStateStore();
  let duringGrantLookup: (() => Promise<void>) | undefined;
  // The store as a shared one is seen: every read is a round trip, during which events land.
  const store: StateStore = {
    ...asyncOnly(memory),
    keys: async (prefix) => {
      const hook = prefix === 'grant:' ? duringGrantLookup : undefined;
      duringGrantLookup = undefined;
      if (hook) await hook();
      return memory.keys(prefix);
    },
  };
  const clock = (): number => Date.now();
  const registry = new SubjectRegistry({ store, audit, clock, settings: { ...DEFAULT_REGISTRY_SETTINGS, stepUp: { minSensitivity: 'high', action: 'approve' } } });
  const enforcement = createEnforcement({ throttle: ThrottleConfigSchema.parse({}), approvals: ApprovalsConfigSchema.parse({}) }, { audit, store, logger: silentLogger(), clock });
  const d = decision({ action: 'approve', enforced: 'approve', sensitivity: 'high' });
  const guard = createGuard({
    engine: { decide: () => d, observeOutcome: () => undefined, isHidden: () => false, redact: (value) => ({ redacted: value, digest: 'sha256:x' }) },
    enforcer: { enforce: (req, dec, options) => enforcement.enforce(req, dec, options), blockResult: (req, reason) => buildBlockResult({ callId: req.callId, reason }) },
    audit, clock, logger: silentLogger(), subjects: registry,
  });
  return { guard, audit, registry, enforcement, stepUpDuringGrantLookup: (hook: () => Promise<void>) => (duringGrantLookup = hook) };
}

const reasonOf = (v: GuardVerdict): unknown => (v.kind === 'respond' ? (v.result._meta as Record<string, { reason?: string }>)[DECISION_META_KEY]?.reason : v.kind);

describe('a step-up that lands while a remembered grant is looked up', () => {
  it('is not answered by the grant: the call is refused (step_up_required), never forwarded unasked', async () => {
    const s = setup();
    // A person allowed the first call and remembered it for alice via agent-7.
    const first = Promise.resolve(s.guard.checkToolCall(callRequest().req));
    let pending = await s.enforcement.approvals.listPending();
    for (let i = 0; pending.length === 0 && i < 50; i++) {
      await new Promise((r) => setImmediate(r));
      pending = await s.enforcement.approvals.listPending();
    }
    expect(await s.enforcement.approvals.answer(pending[0]!.id, { kind: 'allow_remember', ttlMs: 600_000 }, { kind: 'admin', id: 'admin' })).toMatchObject({ ok: true });
    expect((await first).kind).toBe('forward');

    // The IdP lowers alice's assurance while her next call's grant is looked up.
    s.stepUpDuringGrantLookup(async () => {
      await s.registry.stepUp({ user: 'alice' }, { at: Date.now(), eventId: 'evt-aal', reason: 'assurance lowered' });
    });
    const second = await s.guard.checkToolCall(callRequest().req);
    expect(reasonOf(second)).toBe('step_up_required');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(1);
    expect(s.audit.ofType('call.decision').at(-1)).toMatchObject({ action: 'block', enforced: 'block', reason: 'step_up_required', eventId: 'evt-aal' });

    // Calling again goes through the step-up: a person is asked, the grant does not answer.
    void s.guard.checkToolCall(callRequest().req);
    for (let i = 0; (await s.enforcement.approvals.listPending()).length === 0 && i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(await s.enforcement.approvals.listPending()).toHaveLength(1);
    s.enforcement.close();
  });
});
