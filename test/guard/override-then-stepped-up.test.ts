import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { DEFAULT_REGISTRY_SETTINGS, SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, Enforcer } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { MemoryAudit, principal } from '../events/set-helpers.js';

/**
 * A step-up matched on an attribute of the token (the e-mail address, the device id) must not be
 * lifted by a later claims change of that attribute: the account whose risk went up (say taken
 * over) changes its own profile e-mail, the IdP sends token-claims-change, and the token it
 * presents, issued before the step-up, would then reach high-sensitivity tools without approval.
 */
const T0 = 1_700_000_000_000;

async function enforcedFor(stepUpMatch: Record<string, string>, override: Record<string, unknown>): Promise<{ enforced: string[]; forwarded: number; verdict: GuardVerdict }> {
  const registry = new SubjectRegistry({
    store: new MemoryStateStore(),
    audit: new MemoryAudit(),
    clock: () => T0,
    settings: { ...DEFAULT_REGISTRY_SETTINGS, stepUp: { minSensitivity: 'high', action: 'block' } },
  });
  await registry.stepUp(stepUpMatch, { at: T0, eventId: 'ev-risk', reason: 'risk level low -> high' });
  await registry.overrideClaims({ user: 'alice' }, override, { at: T0 + 1000, eventId: 'ev-claims', reason: 'claims' });
  const engine: DecisionEngine = {
    decide: () => decision({ action: 'allow', enforced: 'allow', sensitivity: 'high' }) as Decision,
    observeOutcome: () => undefined,
    isHidden: () => false,
    redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
  };
  const enforced: string[] = [];
  const enforcer: Enforcer = {
    enforce: (_req, d) => {
      enforced.push(d.enforced);
      return d.enforced === 'allow' ? { kind: 'forward' } : { kind: 'respond', result: { isError: true, content: [], _meta: { [DECISION_META_KEY]: { reason: d.enforced } } } };
    },
    blockResult: (_req, reason) => ({ isError: true, content: [], _meta: { [DECISION_META_KEY]: { reason } } }),
  };
  const audit = createRecordingAudit();
  const guard = createGuard({ engine, enforcer, audit, subjects: registry, clock: () => T0 + 2000, logger: silentLogger() });
  const { req } = callRequest();
  const old = principal({ user: 'alice', claims: { email: 'alice@corp.example', device_id: 'laptop-1' }, issuedAt: T0 / 1000 - 600 });
  const verdict = (await guard.checkToolCall({ ...req, principal: old })) as GuardVerdict;
  return { enforced, forwarded: audit.ofType('call.forwarded').length, verdict };
}

describe('guard: claim overrides cannot lift a step-up of the presented token', () => {
  it('an email step-up still blocks a high call after a claims change gave the user another address', async () => {
    const r = await enforcedFor({ email: 'alice@corp.example' }, { email: 'mallory@evil.example' });
    expect(r.enforced).toEqual(['block']);
    expect(r.verdict.kind).toBe('respond');
    expect(r.forwarded).toBe(0);
  });

  it('a device step-up still blocks a high call after a claims change named another device', async () => {
    const r = await enforcedFor({ device: 'laptop-1' }, { device_id: 'laptop-2' });
    expect(r.enforced).toEqual(['block']);
    expect(r.forwarded).toBe(0);
  });
});
