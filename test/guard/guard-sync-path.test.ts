import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import { isThenable } from '../../src/core/maybe-promise.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, Enforcer } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';

/**
 * The guard answers at once when every stage does (in-memory state, allow or block) and keeps
 * promises for what really waits. Either way a fault anywhere blocks: a throw now is handled
 * like a rejection later.
 */
function guardWith(decide: DecisionEngine['decide'], enforce: Enforcer['enforce'] = () => ({ kind: 'forward' })) {
  const engine: DecisionEngine = {
    decide,
    observeOutcome: () => undefined,
    isHidden: () => false,
    redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
  };
  const enforcer: Enforcer = { enforce, blockResult: (_req, reason) => ({ isError: true, content: [], _meta: { [DECISION_META_KEY]: { reason } } }) };
  const audit = createRecordingAudit();
  const guard = createGuard({ engine, enforcer, audit, clock: () => 1_000, logger: silentLogger() });
  return { guard, audit };
}

const allowed: Decision = decision({ action: 'allow', enforced: 'allow' });
const blockedCode = (v: GuardVerdict): unknown => (v.kind === 'respond' ? (v.result._meta as Record<string, unknown> | undefined)?.[DECISION_META_KEY] : undefined);

describe('guard: synchronous decision path', () => {
  it('answers an allowed call at once, with every write-ahead record written before it returns', () => {
    const { guard, audit } = guardWith(() => allowed);
    const verdict = guard.checkToolCall(callRequest().req);
    expect(isThenable(verdict)).toBe(false);
    expect((verdict as GuardVerdict).kind).toBe('forward');
    expect(audit.events.map((e) => e.type)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded']);
  });

  it('still waits for an engine that answers later (a shared state store)', async () => {
    const { guard, audit } = guardWith(async () => allowed);
    const verdict = guard.checkToolCall(callRequest().req);
    expect(isThenable(verdict)).toBe(true);
    expect((await verdict).kind).toBe('forward');
    expect(audit.ofType('call.forwarded')).toHaveLength(1);
  });

  it('still waits for an enforcer that holds the call (throttle queue, approval)', async () => {
    const { guard, audit } = guardWith(() => allowed, async () => ({ kind: 'forward' }));
    const verdict = guard.checkToolCall(callRequest().req);
    expect(isThenable(verdict)).toBe(true);
    expect((await verdict).kind).toBe('forward');
    expect(audit.ofType('call.forwarded')).toHaveLength(1);
  });
});

describe('guard: a fault on the synchronous path blocks (fail closed)', () => {
  it('store fault thrown synchronously by the engine: blocked at once, never forwarded, audited', () => {
    const { guard, audit } = guardWith(() => {
      throw new Error('state store down');
    });
    const verdict = guard.checkToolCall(callRequest().req) as GuardVerdict;
    expect(isThenable(verdict)).toBe(false);
    expect(verdict.kind).toBe('respond');
    expect(blockedCode(verdict)).toMatchObject({ reason: 'internal' });
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
    expect(audit.ofType('call.error')[0]).toMatchObject({ stage: 'guard', message: 'state store down' });
  });

  it('store fault as a rejection: blocked, never forwarded, audited', async () => {
    const { guard, audit } = guardWith(() => Promise.reject(new Error('state store down')));
    const verdict = await guard.checkToolCall(callRequest().req);
    expect(verdict.kind).toBe('respond');
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
    expect(audit.ofType('call.error')[0]).toMatchObject({ message: 'state store down' });
  });

  it('an enforcer throwing synchronously cannot let the call through', () => {
    const { guard, audit } = guardWith(
      () => allowed,
      () => {
        throw new Error('enforcer bug');
      },
    );
    const verdict = guard.checkToolCall(callRequest().req) as GuardVerdict;
    expect(verdict.kind).toBe('respond');
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
    // The steps gathered before the fault still reach the log, ahead of the error.
    expect(audit.events.map((e) => e.type)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.error']);
  });

  it('a synchronous decision over its budget is not trusted: blocked', () => {
    const engine: DecisionEngine = {
      decide: () => {
        const until = Date.now() + 5;
        while (Date.now() < until) {
          // pathological input keeps the engine busy
        }
        return allowed;
      },
      observeOutcome: () => undefined,
      isHidden: () => false,
      redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
    };
    const audit = createRecordingAudit();
    const guard = createGuard({
      engine,
      enforcer: { enforce: () => ({ kind: 'forward' }), blockResult: () => ({}) },
      audit,
      clock: () => 1_000,
      logger: silentLogger(),
      decisionBudgetMs: 1,
    });
    const verdict = guard.checkToolCall(callRequest().req) as GuardVerdict;
    expect(verdict.kind).toBe('respond');
    expect(audit.ofType('call.error')[0]).toMatchObject({ code: 'decision_budget_exceeded' });
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
  });
});

describe('guard: an upstream restarted before the forward (a new process behind the judged name)', () => {
  it('refuses an allowed call whose upstream restarted, and never records it as forwarded', () => {
    const released: string[] = [];
    const { guard, audit } = guardWith(() => allowed, () => ({ kind: 'forward', onOutcome: (o) => released.push(o.status) }));
    const { req } = callRequest();
    const v = guard.checkToolCall({ ...req, upstreamRestarted: () => true }) as GuardVerdict;
    expect(v.kind).toBe('respond');
    expect(blockedCode(v)).toMatchObject({ reason: 'upstream_restarted' });
    expect(released).toEqual(['cancelled']); // a throttle slot the forward held is given back
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
    expect(audit.ofType('call.decision').at(-1)).toMatchObject({ action: 'block', enforced: 'block', reason: 'upstream_restarted' });
    // The same request on an upstream still in place goes out.
    expect((guard.checkToolCall({ ...req, upstreamRestarted: () => false }) as GuardVerdict).kind).toBe('forward');
    expect(audit.ofType('call.forwarded')).toHaveLength(1);
  });

  it('a restart check that throws blocks the call (fail closed) and releases what the forward held', () => {
    const released: string[] = [];
    const { guard, audit } = guardWith(() => allowed, () => ({ kind: 'forward', onOutcome: (o) => released.push(o.status) }));
    const v = guard.checkToolCall({
      ...callRequest().req,
      upstreamRestarted: () => {
        throw new Error('connection gone');
      },
    }) as GuardVerdict;
    expect(v.kind).toBe('respond');
    expect(blockedCode(v)).toMatchObject({ reason: 'internal' });
    expect(released).toEqual(['cancelled']);
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
  });
});
