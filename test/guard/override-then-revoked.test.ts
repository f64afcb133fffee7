import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, Enforcer } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { MemoryAudit, principal } from '../events/set-helpers.js';

/**
 * A claims change may rewrite the attributes a revocation matched on (the e-mail address, the
 * device id). It must not lift the revocation: the token the agent presents was revoked, whatever
 * its claims were changed to afterwards.
 */
const T0 = 1_700_000_000_000;

describe('guard: claim overrides cannot un-revoke a token', () => {
  it('an email revocation still blocks after a later claims change gave the user another address', async () => {
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0 });
    await registry.revoke({ email: 'alice@corp.example' }, { at: T0, eventId: 'ev-revoke', reason: 'credential revoked', by: 'test' });
    await registry.overrideClaims({ user: 'alice' }, { email: 'alice.new@corp.example' }, { at: T0 + 1000, eventId: 'ev-claims', reason: 'claims' });
    const engine: DecisionEngine = {
      decide: () => decision({ action: 'allow', enforced: 'allow' }) as Decision,
      observeOutcome: () => undefined,
      isHidden: () => false,
      redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
    };
    const enforcer: Enforcer = { enforce: () => ({ kind: 'forward' }), blockResult: (_req, reason) => ({ isError: true, content: [], _meta: { [DECISION_META_KEY]: { reason } } }) };
    const audit = createRecordingAudit();
    const guard = createGuard({ engine, enforcer, audit, subjects: registry, clock: () => T0 + 2000, logger: silentLogger() });
    const { req } = callRequest();
    const old = principal({ user: 'alice', claims: { email: 'alice@corp.example' }, issuedAt: T0 / 1000 - 600 });
    const verdict = (await guard.checkToolCall({ ...req, principal: old })) as GuardVerdict;
    expect(verdict.kind).toBe('respond');
    expect(audit.ofType('call.forwarded')).toHaveLength(0);
  });
});
