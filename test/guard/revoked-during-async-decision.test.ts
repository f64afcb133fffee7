import { describe, expect, it } from 'vitest';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import type { Decision } from '../../src/core/decision.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { buildBlockResult } from '../../src/enforce/block-result.js';
import { createEnforcement } from '../../src/enforce/enforcement.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { DEFAULT_REGISTRY_SETTINGS, SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';

/**
 * The guard reads the subject's standing (revoked, stepped up) before the decision. With the
 * in-memory store the decision is made at once; with a shared store (the StateStore interface is
 * made for one) it awaits the store's rate windows and baselines. A revocation or a step-up that
 * came into force during that wait was missed: an `allow` is forwarded at once, with no check
 * after the wait, so a revoked token's call went out.
 */
function setup(d: Decision, stepUpAction: 'approve' | 'block' = 'approve') {
  const audit = createRecordingAudit();
  const store = new MemoryStateStore();
  const clock = (): number => Date.now();
  const registry = new SubjectRegistry({ store, audit, clock, settings: { ...DEFAULT_REGISTRY_SETTINGS, stepUp: { minSensitivity: 'high', action: stepUpAction } } });
  const enforcement = createEnforcement({ throttle: ThrottleConfigSchema.parse({}), approvals: ApprovalsConfigSchema.parse({}) }, { audit, store, logger: silentLogger(), clock });
  let duringDecision: (() => Promise<void>) | undefined;
  const guard = createGuard({
    engine: {
      // A decision that reads a shared store: a round trip, during which events land.
      decide: async () => {
        await duringDecision?.();
        return d;
      },
      observeOutcome: () => undefined,
      isHidden: () => false,
      redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
    },
    enforcer: { enforce: (req, dec, options) => enforcement.enforce(req, dec, options), blockResult: (req, reason) => buildBlockResult({ callId: req.callId, reason }) },
    audit, clock, logger: silentLogger(), subjects: registry,
  });
  return { guard, audit, registry, enforcement, whileDeciding: (hook: () => Promise<void>) => (duringDecision = hook) };
}

const reasonOf = (v: GuardVerdict): unknown => (v.kind === 'respond' ? (v.result._meta as Record<string, { reason?: string }>)[DECISION_META_KEY]?.reason : v.kind);

describe('guard: the subject\'s standing changes while an asynchronous decision is made', () => {
  it('blocks an allowed call whose token was revoked during the decision (revoked token forwarded after a slow decision)', async () => {
    const s = setup(decision({ action: 'allow', enforced: 'allow', sensitivity: 'low' }));
    s.whileDeciding(() => s.registry.revokeManually({ user: 'alice' }, 'admin:test').then(() => undefined));
    const verdict = await s.guard.checkToolCall(callRequest().req);
    expect(verdict.kind).toBe('respond');
    expect(reasonOf(verdict)).toBe('revoked');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(0);
    expect(s.audit.ofType('call.identity').at(-1)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('applies a blocking step-up that came into force during the decision', async () => {
    const s = setup(decision({ action: 'allow', enforced: 'allow', sensitivity: 'high' }), 'block');
    s.whileDeciding(() => s.registry.stepUp({ user: 'alice' }, { at: Date.now(), eventId: 'evt-aal', reason: 'assurance lowered' }).then(() => undefined));
    const verdict = await s.guard.checkToolCall(callRequest().req);
    expect(verdict.kind).toBe('respond');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(0);
    expect(s.audit.ofType('call.decision').at(-1)).toMatchObject({ enforced: 'block' });
  });

  it('refuses an allowed call whose claims a token-claims-change replaced during the decision (claims_changed)', async () => {
    const s = setup(decision({ action: 'allow', enforced: 'allow', sensitivity: 'low' }));
    s.whileDeciding(() => s.registry.overrideClaims({ user: 'alice' }, { groups: ['contractors'] }, { at: Date.now(), eventId: 'evt-claims', reason: 'claims changed' }).then(() => undefined));
    const verdict = await s.guard.checkToolCall(callRequest().req);
    expect(reasonOf(verdict)).toBe('claims_changed');
    expect(s.audit.ofType('call.forwarded')).toHaveLength(0);
  });

  it('still forwards an allowed call when nothing changed during the decision', async () => {
    const s = setup(decision({ action: 'allow', enforced: 'allow', sensitivity: 'high' }), 'block');
    s.whileDeciding(async () => undefined);
    expect((await s.guard.checkToolCall(callRequest().req)).kind).toBe('forward');
  });
});
