import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import type { StandingSubscription } from '../../src/core/tool-call.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, Enforcer } from '../../src/guard/ports.js';
import { standingOutcome } from '../../src/guard/standing-check.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { decision } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { MemoryAudit, principal } from '../events/set-helpers.js';

const T0 = 1_700_000_000_000;
const enforcer: Enforcer = { enforce: () => ({ kind: 'forward' }), blockResult: () => ({ isError: true, content: [] }) };
const sub = (over: Partial<StandingSubscription> = {}): StandingSubscription => ({
  sessionId: 's1', principal: principal({ user: 'alice', issuedAt: T0 / 1000 - 600 }), upstream: 'acme', uri: 'acme://files/payroll.csv',
  judgedUnder: 'sha256:old', transport: 'stdio', remoteAddress: undefined, userAgent: undefined, clientInfo: undefined, ...over,
});
function engineWith(recheck: DecisionEngine['recheck']): DecisionEngine {
  return {
    decide: () => { throw new Error('a re-check is not a call'); },
    recheck,
    observeOutcome: () => undefined,
    isHidden: () => false,
    redact: (value) => ({ redacted: JSON.parse(JSON.stringify(value).replace('payroll', '[REDACTED]')) as unknown, digest: 'sha256:x' }),
    policyHash: () => 'sha256:new',
  };
}

describe('standingOutcome: which decisions end a standing subscription', () => {
  const d = (action: Decision['action'], enforced: Decision['action'] = action, policyHash = 'sha256:new') => ({ action, enforced, policyHash });
  it('allow and throttle keep it; block ends it', () => {
    expect(standingOutcome(d('allow'), 'policy_reload', 'sha256:old')).toBe('keep');
    expect(standingOutcome(d('throttle'), 'policy_reload', 'sha256:old')).toBe('keep');
    expect(standingOutcome(d('block'), 'upstream_restart', 'sha256:new')).toBe('end');
  });
  it('approve ends it after a reload, and before a restore unless under the policy it was judged by', () => {
    expect(standingOutcome(d('approve'), 'policy_reload', 'sha256:new')).toBe('end');
    expect(standingOutcome(d('approve'), 'upstream_restart', 'sha256:new')).toBe('keep');
    expect(standingOutcome(d('approve'), 'upstream_restart', 'sha256:old')).toBe('end');
    expect(standingOutcome(d('approve'), 'upstream_restart', undefined)).toBe('end');
  });
  it('monitor mode: what the policy would do is recorded, what it enforces decides', () => {
    expect(standingOutcome(d('block', 'allow'), 'policy_reload', 'sha256:old')).toBe('would_end');
  });
});

describe('guard.recheckSubscription', () => {
  it('a failing re-check ends the subscription (fail closed), recorded as a block', async () => {
    const audit = createRecordingAudit();
    const guard = createGuard({ engine: engineWith(() => Promise.reject(new Error('store down'))), enforcer, audit, clock: () => T0, logger: silentLogger() });
    expect(await guard.recheckSubscription!(sub(), 'policy_reload')).toBe('end');
    expect(audit.ofType('subscription.ended')).toEqual([expect.objectContaining({ reason: 'policy_reload', ended: true, action: 'block', enforced: 'block', codes: ['internal'], policyHash: 'sha256:new' })]);
  });

  it('a revoked caller\'s subscription ends without asking the policy, recorded with the event; its URI redacted', async () => {
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0 });
    await registry.revoke({ user: 'alice' }, { at: T0, eventId: 'ev-1', reason: 'signed out', by: 'test' });
    const audit = createRecordingAudit();
    const guard = createGuard({ engine: engineWith(() => Promise.reject(new Error('not asked'))), enforcer, audit, subjects: registry, clock: () => T0 + 1000, logger: silentLogger() });
    expect(await guard.recheckSubscription!(sub(), 'upstream_restart')).toBe('end');
    expect(audit.ofType('subscription.ended')).toEqual([expect.objectContaining({ reason: 'revoked', eventId: 'ev-1', ended: true, uri: 'acme://files/[REDACTED].csv' })]);
  });

  it('a subscription re-sent after a restart escapes a step-up that came after it was judged (the policy\'s earlier verdict answered for it)', async () => {
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0 });
    await registry.stepUp({ user: 'alice' }, { at: T0, eventId: 'ev-2', reason: 'risk up' });
    const audit = createRecordingAudit();
    const allowHigh = async (): Promise<Decision> => decision({ action: 'allow', enforced: 'allow', sensitivity: 'high', rules: [], policyHash: 'sha256:new' }) as Decision;
    const guard = createGuard({ engine: engineWith(allowHigh), enforcer, audit, subjects: registry, clock: () => T0 + 1000, logger: silentLogger() });
    expect(await guard.recheckSubscription!(sub({ judgedUnder: 'sha256:new' }), 'upstream_restart')).toBe('end');
    expect(audit.ofType('subscription.ended')[0]).toMatchObject({ reason: 'upstream_restart', action: 'approve', rules: ['event:ev-2'], codes: expect.arrayContaining(['subject.step_up']) });
  });
});
