import { describe, expect, it } from 'vitest';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { GuardVerdict } from '../../src/core/tool-call.js';
import { buildBlockResult } from '../../src/enforce/block-result.js';
import { createEnforcement } from '../../src/enforce/enforcement.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { createGuard } from '../../src/guard/create-guard.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest, decision, principal } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { RegisteringStore } from '../helpers/registering-store.js';

/**
 * The guard hands the approval manager the caller's token as presented, so "allow and remember"
 * finds a security event that matched the token by a claim an earlier override rewrote (here its
 * e-mail): judged as the override made it, the caller's standing looked unchanged, and the grant
 * was made for a caller whose claims the IdP had just replaced.
 */
const reasonOf = (v: GuardVerdict): unknown => (v.kind === 'respond' ? (v.result._meta as Record<string, { reason?: string }>)[DECISION_META_KEY]?.reason : v.kind);

function wired() {
  const audit = createRecordingAudit();
  const clock = (): number => Date.now();
  const logger = silentLogger();
  const approvalsStore = new RegisteringStore();
  let registry: SubjectRegistry | undefined;
  const enforcement = createEnforcement(
    { throttle: ThrottleConfigSchema.parse({}), approvals: ApprovalsConfigSchema.parse({}) },
    {
      audit, store: approvalsStore, logger, clock,
      isRevoked: (p, sid) => registry!.isRevoked(p, sid, clock()),
      standingOf: (judgedAs, presented, sid) => registry!.standingOf(judgedAs, presented, sid, clock()),
    },
  );
  registry = new SubjectRegistry({
    store: new MemoryStateStore(), audit, clock,
    // As warden wires it: the claims change withdraws the calls it covers (it misses one still being registered).
    onClaimsChange: (effect) => void enforcement.approvals.withdrawWhere((p, caller) => caller !== undefined && effect.affects(caller, p.sessionId), 'claims changed'),
  });
  const guard = createGuard({
    engine: { decide: () => decision({ sensitivity: 'medium' }), observeOutcome: () => undefined, isHidden: () => false, redact: (value) => ({ redacted: value, digest: 'sha256:x' }) },
    enforcer: { enforce: enforcement.enforce, blockResult: (req, reason) => buildBlockResult({ callId: req.callId, reason }) },
    audit, clock, logger, subjects: registry,
  });
  return { guard, audit, registry, enforcement, approvalsStore };
}

describe('guard: "allow and remember" for a caller whose claims changed by what its token presents', () => {
  it('makes no grant when the event matched the token\'s own e-mail, rewritten by an earlier override (grant kept across changed claims)', async () => {
    const s = wired();
    const alice = { ...principal(), issuedAt: Date.now() / 1000 - 60, claims: { email: 'alice@example.com' } };
    // An earlier claims change gave alice another address: her calls are judged with it.
    await s.registry.overrideClaims({ user: 'alice' }, { email: 'alice@new.example.com' }, { at: Date.now(), eventId: 'evt-address', reason: 'address changed' });
    const waiting = Promise.resolve(s.guard.checkToolCall(callRequest({ principal: alice }).req));
    await s.approvalsStore.held;
    // Now the IdP changes the claims of the token by its own address, while the request is being registered.
    await s.registry.overrideClaims({ email: 'alice@example.com' }, { employment: 'contractor' }, { at: Date.now(), eventId: 'evt-contractor', reason: 'contractor' });
    s.approvalsStore.release();
    let pending = await s.enforcement.approvals.listPending();
    while (pending.length === 0) {
      await new Promise((r) => setImmediate(r));
      pending = await s.enforcement.approvals.listPending();
    }
    const answered = await s.enforcement.approvals.answer(pending[0]!.id, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, { kind: 'admin', id: 'admin' });
    expect(answered).toMatchObject({ ok: true });
    expect(reasonOf(await waiting)).toBe('claims_changed');
    expect(await s.enforcement.approvals.listGrants()).toEqual([]);
    expect(s.audit.ofType('grant.created')).toHaveLength(0);
    expect(s.audit.ofType('call.forwarded')).toHaveLength(0);
  });
});
