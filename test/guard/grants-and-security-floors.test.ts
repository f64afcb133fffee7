import { describe, expect, it } from 'vitest';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import type { Decision } from '../../src/core/decision.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { buildBlockResult } from '../../src/enforce/block-result.js';
import { createEnforcement } from '../../src/enforce/enforcement.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, PinGate } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';

/**
 * A remembered grant stands for "a human already said yes to this tool". Security reactions that
 * raise a call to `approve` (a step-up after a security event, a changed or poisoned tool
 * definition) exist because something changed since then: each such call needs a human now, and
 * an earlier grant must not answer for them.
 */
function setup(pins?: PinGate) {
  const audit = createRecordingAudit();
  const store = new MemoryStateStore();
  const clock = (): number => Date.now();
  const logger = silentLogger();
  const registry = new SubjectRegistry({ store, audit, clock });
  const enforcement = createEnforcement(
    { throttle: ThrottleConfigSchema.parse({}), approvals: ApprovalsConfigSchema.parse({}) },
    { audit, store, logger, clock },
  );
  let next: Decision = decision({ action: 'approve', enforced: 'approve', sensitivity: 'high' });
  const engine: DecisionEngine = {
    decide: () => next,
    observeOutcome: () => undefined,
    isHidden: () => false,
    redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
  };
  const guard = createGuard({
    engine,
    enforcer: { enforce: enforcement.enforce, blockResult: (req, reason) => buildBlockResult({ callId: req.callId, reason }) },
    audit,
    clock,
    logger,
    subjects: registry,
    ...(pins ? { pins } : {}),
  });
  return { guard, audit, registry, enforcement, decideNext: (d: Decision) => (next = d) };
}

/** Approves the first pending request with "allow and remember" (any arguments). */
async function grantOnce(s: ReturnType<typeof setup>): Promise<void> {
  const first = Promise.resolve(s.guard.checkToolCall(callRequest().req));
  await new Promise((r) => setImmediate(r));
  const [pending] = await s.enforcement.approvals.listPending();
  if (!pending) throw new Error('expected a pending approval');
  await s.enforcement.approvals.answer(pending.id, { kind: 'allow_remember', ttlMs: 3_600_000, matchArguments: false }, { kind: 'admin', id: 'admin' });
  expect((await first).kind).toBe('forward');
  expect(await s.enforcement.approvals.listGrants()).toHaveLength(1);
}

async function stillAsksAHuman(s: ReturnType<typeof setup>): Promise<void> {
  let settled: GuardVerdict | undefined;
  void Promise.resolve(s.guard.checkToolCall(callRequest().req)).then((v) => (settled = v));
  await new Promise((r) => setImmediate(r));
  expect(settled).toBeUndefined();
  expect(await s.enforcement.approvals.listPending()).toHaveLength(1);
  s.enforcement.close();
  await new Promise((r) => setImmediate(r));
  expect(settled?.kind).toBe('respond');
}

describe('guard: grants do not answer for security reactions', () => {
  it('a grant from before a step-up event does not satisfy the step-up: a human is asked', async () => {
    const s = setup();
    await grantOnce(s);
    await s.registry.stepUp({ user: 'alice' }, { at: Date.now(), eventId: 'evt-1', reason: 'device not compliant' });
    await stillAsksAHuman(s);
  });

  it('a grant from before a tool definition changed does not allow the changed tool (pins onChange: approve)', async () => {
    let changed = false;
    const pins: PinGate = {
      listing: () => ({ listed: true }),
      verdict: () => (changed ? { action: 'approve', reasons: [{ code: 'tool.definition_changed', weight: 50, detail: 'changed' }] } : { action: 'allow', reasons: [] }),
      risk: () => [],
      observe: () => undefined,
    };
    const s = setup(pins);
    await grantOnce(s);
    changed = true;
    await stillAsksAHuman(s);
  });

  it('the grant still answers for the policy approval it was made for', async () => {
    const s = setup();
    await grantOnce(s);
    expect((await s.guard.checkToolCall(callRequest().req)).kind).toBe('forward');
    expect(s.audit.ofType('call.approval_answered').at(-1)).toMatchObject({ how: 'grant' });
  });
});
