import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import type { Decision } from '../../src/core/decision.js';
import { buildBlockResult } from '../../src/enforce/block-result.js';
import { createEnforcement } from '../../src/enforce/enforcement.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { DEFAULT_REGISTRY_SETTINGS, SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { createRecordingAudit } from './recording-audit.js';

/** One token per second per user+agent, burst 1, waits up to 5 s: the second call queues. */
export const ONE_PER_SECOND = { buckets: [{ key: 'user_agent', ratePerMinute: 60, burst: 1 }], maxWaitMs: 5_000 };

/**
 * A guard with real enforcement (throttle, approvals) and a real subject registry, its engine
 * answering `d` for every call: for tests of what happens to calls waiting in warden when the
 * subject's standing changes (revocation, step-up).
 */
export function guardWithSubjects(d: Decision, options: { throttle?: Record<string, unknown>; stepUpAction?: 'approve' | 'block' } = {}) {
  const audit = createRecordingAudit();
  const store = new MemoryStateStore();
  const clock = (): number => Date.now();
  const logger = silentLogger();
  const settings = { ...DEFAULT_REGISTRY_SETTINGS, stepUp: { minSensitivity: 'high' as const, action: options.stepUpAction ?? 'approve' } };
  const registry = new SubjectRegistry({ store, audit, clock, settings });
  const enforcement = createEnforcement(
    { throttle: ThrottleConfigSchema.parse(options.throttle ?? ONE_PER_SECOND), approvals: ApprovalsConfigSchema.parse({}) },
    { audit, store, logger, clock },
  );
  const guard = createGuard({
    engine: { decide: () => d, observeOutcome: () => undefined, isHidden: () => false, redact: (value) => ({ redacted: value, digest: 'sha256:x' }) },
    enforcer: { enforce: (req, dec) => enforcement.enforce(req, dec), blockResult: (req, reason) => buildBlockResult({ callId: req.callId, reason }) },
    audit,
    clock,
    logger,
    subjects: registry,
  });
  return { guard, audit, registry, enforcement };
}
