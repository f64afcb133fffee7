import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import type { UpstreamOutcome } from '../../src/core/tool-call.js';
import type { EvaluateResult } from '../../src/events/registry-entry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, Enforcer, SubjectGate } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';

/**
 * A call held by enforcement (throttle queue, approval) is judged before it waits; a revocation
 * that arrives meanwhile must still stop it. The guard looks at the subject again before it
 * forwards a call that waited, and releases what the enforcer holds.
 */
function setup(afterWait: EvaluateResult) {
  let subject: EvaluateResult = { kind: 'ok' };
  const engine: DecisionEngine = {
    decide: () => decision({ action: 'throttle', enforced: 'throttle' }) as Decision,
    observeOutcome: () => undefined,
    isHidden: () => false,
    redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
  };
  const released: UpstreamOutcome[] = [];
  const enforcer: Enforcer = {
    // The throttle queue: the subject changes while the call waits for its slot.
    enforce: async () => {
      subject = afterWait;
      return { kind: 'forward', onOutcome: (o) => void released.push(o) };
    },
    blockResult: (_req, reason) => ({ isError: true, content: [], _meta: { reason } }),
  };
  const subjects: SubjectGate = { evaluate: () => subject, effectivePrincipal: (p) => p };
  const audit = createRecordingAudit();
  const guard = createGuard({ engine, enforcer, audit, subjects, clock: () => 1_000, logger: silentLogger() });
  return { guard, audit, released };
}

describe('guard: revocation while a call waits in enforcement', () => {
  it('refuses a throttled call whose subject was revoked while it waited, and releases its slot', async () => {
    const { guard, audit, released } = setup({ kind: 'revoked', eventId: 'ev-1', reason: 'session revoked' });
    const verdict = await guard.checkToolCall(callRequest().req);
    expect(verdict.kind).toBe('respond');
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
    expect(audit.ofType('call.identity')[0]).toMatchObject({ ok: false, reason: 'revoked' });
    expect(released.map((o) => o.status)).toEqual(['cancelled']);
  });

  it('forwards a waited call whose subject is still fine', async () => {
    const { guard, audit, released } = setup({ kind: 'ok' });
    const verdict = await guard.checkToolCall(callRequest().req);
    expect(verdict.kind).toBe('forward');
    expect(audit.ofType('call.forwarded')).toHaveLength(1);
    expect(released).toHaveLength(0);
  });
});
