import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import type { Principal } from '../../src/core/principal.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createSubjectRegistry } from '../../src/runtime/subject-wiring.js';
import { SessionRegistry } from '../../src/sessions/session-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest, decision, principal, RecordingAudit } from '../fixtures/enforce/call-fixtures.js';
import { admin, display, managerFixture } from '../fixtures/enforce/manager-fixture.js';
import { createApprovalManager } from '../../src/approval/approval-manager.js';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import type { SubjectRegistry } from '../../src/events/subject-registry.js';
import { makePrincipal } from '../helpers/principal-builder.js';
import { tempDir } from '../helpers/warden-process.js';

/**
 * A revocation (warden revoke, a security event) must take the subject's remembered grants with
 * it: a token issued after the revocation is accepted again, and without this its old grants let
 * the stolen identity's new calls skip the human.
 */
async function setup() {
  const f = managerFixture();
  const sessions = new SessionRegistry();
  const config = WardenConfigSchema.parse({ dangerouslyAllowAnonymous: true, upstreams: { a: { command: 'x' } } });
  const dir = tempDir('warden-revoked-grants-');
  const { registry, stop } = await createSubjectRegistry(config, {
    store: new MemoryStateStore(), audit: f.audit, clock: () => Date.now(), logger: silentLogger(), sessions,
    authenticator: undefined, approvals: f.manager, closeSession: () => undefined, endSubscriptions: () => undefined, recheckSubscriptions: () => undefined, at: (p) => join(dir, p),
  });
  /** An approver answers "allow and remember" for a call of `who` (`scope` user: any agent of the user). */
  const remember = async (who: Principal, scope: 'principal' | 'user' = 'principal'): Promise<void> => {
    const asked = f.nextPending();
    const call = f.manager.request(callRequest({ principal: who }).req, decision(), display);
    const answered = await f.manager.answer(await asked, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false, scope }, admin);
    if (!answered.ok) throw new Error(`grant refused: ${JSON.stringify(answered)}`);
    await call;
  };
  const grantUsers = async () => (await f.manager.listGrants()).map((g) => `${g.user}/${g.actor ?? '-'}`).sort();
  return { f, sessions, registry, stop, remember, grantUsers };
}

describe('a revocation takes the subject\'s remembered grants (stolen identity skipping the human with a new token)', () => {
  it('revoking a user revokes that user\'s grants, audited with reason subject_revoked; other users keep theirs', async () => {
    const t = await setup();
    try {
      await t.remember(principal('alice'));
      await t.remember(principal('alice', 'agent-9'), 'user');
      await t.remember(principal('bob'));
      await t.registry.revokeManually({ user: 'alice' }, 'admin:ops');
      expect(await t.grantUsers()).toEqual(['bob/agent-7']);
      const revoked = t.f.audit.events.filter((e) => e.type === 'grant.revoked');
      expect(revoked).toHaveLength(2);
      expect(revoked[0]).toMatchObject({ user: 'alice', by: 'revocation', approver: { kind: 'system', id: 'revocation' }, reason: 'subject_revoked' });
      // Alice's next call (a new token, issued after the revocation) meets a human again.
      const asked = t.f.nextPending();
      const call = t.f.manager.request(callRequest({ principal: makePrincipal({ ...principal('alice'), issuedAt: Date.now() / 1000 + 5 }) }).req, decision(), display);
      await asked;
      t.f.manager.withdrawWhere(() => true, 'test over');
      expect(await call).toMatchObject({ kind: 'withdrawn' });
    } finally {
      await t.stop();
    }
  });

  it('revoking an agent revokes grants whose delegation chain holds it, and user-wide grants (they cover it too)', async () => {
    const t = await setup();
    try {
      await t.remember(principal('alice', 'agent-7'));
      await t.remember(principal('carol', 'other-agent'));
      await t.remember(principal('dave', 'other-agent'), 'user');
      await t.registry.revokeManually({ agent: 'agent-7' }, 'admin:ops');
      expect(await t.grantUsers()).toEqual(['carol/other-agent']);
    } finally {
      await t.stop();
    }
  });

  it('a revocation by what a grant does not record (an email) takes the grants of the users whose sessions it hit', async () => {
    const t = await setup();
    try {
      const erin = makePrincipal({ ...principal('erin'), claims: { email: 'erin@example.com' } });
      await t.remember(erin);
      await t.remember(principal('frank'));
      t.sessions.opened({ sessionId: 's-erin', principal: erin, transport: 'stdio', openedAt: Date.now() } as never);
      await t.registry.revoke({ email: 'erin@example.com' }, { at: Date.now(), eventId: 'set-1', reason: 'credential change', by: 'set' });
      expect(await t.grantUsers()).toEqual(['frank/agent-7']);
    } finally {
      await t.stop();
    }
  });

  it('an answer given after the revocation remembers nothing: the revoked identity\'s next token meets a human (withdrawal missed the call)', async () => {
    // The revocation withdraws the pending approvals it covers, but can miss one: a request still
    // being registered when it arrives (the withdrawal sees registered requests only). Here the
    // withdrawal misses every request, and an approver answers it "allow and remember". The guard
    // refuses the call itself (revoked), but the grant stayed: the revoked identity's next token,
    // issued after the revocation, skipped the human with it.
    const audit = new RecordingAudit();
    const store = new MemoryStateStore();
    let registry: SubjectRegistry | undefined;
    const manager = createApprovalManager(ApprovalsConfigSchema.parse({}), {
      audit, store, logger: silentLogger(),
      isRevoked: (p, sessionId) => registry?.evaluate(p, sessionId, Date.now()).kind === 'revoked',
    });
    const config = WardenConfigSchema.parse({ dangerouslyAllowAnonymous: true, upstreams: { a: { command: 'x' } } });
    const made = await createSubjectRegistry(config, {
      store, audit, clock: () => Date.now(), logger: silentLogger(), sessions: new SessionRegistry(),
      authenticator: undefined, approvals: { ...manager, withdrawWhere: () => 0 }, closeSession: () => undefined, endSubscriptions: () => undefined, recheckSubscriptions: () => undefined, at: (p) => join(tempDir('warden-revoked-grants-'), p),
    });
    registry = made.registry;
    try {
      const old = makePrincipal({ ...principal('alice'), issuedAt: Date.now() / 1000 - 60 });
      const call = manager.request(callRequest({ principal: old }).req, decision(), display);
      await new Promise((r) => setImmediate(r));
      const [pending] = await manager.listPending();
      await registry.revokeManually({ user: 'alice' }, 'admin:ops');
      expect(await manager.listPending()).toHaveLength(1); // the withdrawal missed it
      expect(await manager.answer(pending!.id, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin)).toMatchObject({ ok: true });
      await call;
      expect(await manager.listGrants()).toEqual([]);
      const fresh = makePrincipal({ ...principal('alice'), issuedAt: Date.now() / 1000 + 5 });
      expect(registry.evaluate(fresh, undefined, Date.now()).kind).toBe('ok');
      expect(await manager.findGrant(callRequest({ principal: fresh }).req, decision().policyHash)).toBeUndefined();
    } finally {
      manager.close();
      await made.stop();
    }
  });
});

