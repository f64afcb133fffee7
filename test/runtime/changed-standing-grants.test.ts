import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApprovalManager } from '../../src/approval/approval-manager.js';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import type { Principal } from '../../src/core/principal.js';
import type { SubjectRegistry } from '../../src/events/subject-registry.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createSubjectRegistry } from '../../src/runtime/subject-wiring.js';
import { SessionRegistry } from '../../src/sessions/session-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest, decision, principal, RecordingAudit } from '../fixtures/enforce/call-fixtures.js';
import { admin, display } from '../fixtures/enforce/manager-fixture.js';
import { makePrincipal } from '../helpers/principal-builder.js';
import { RegisteringStore } from '../helpers/registering-store.js';
import { tempDir } from '../helpers/warden-process.js';

/**
 * The real approval manager and security-event registry, wired as warden wires them: a security
 * event withdraws its subject's pending approvals, and the manager compares the caller's standing
 * when its "allow and remember" is answered with its standing when the call was judged.
 */
async function setup(standingOf?: (j: Principal, p: Principal, sid: string) => string) {
  const audit = new RecordingAudit();
  const store = new RegisteringStore();
  let registry: SubjectRegistry | undefined;
  const manager = createApprovalManager(ApprovalsConfigSchema.parse({}), {
    audit, store, logger: silentLogger(),
    isRevoked: (p, sessionId) => registry!.isRevoked(p, sessionId, Date.now()),
    standingOf: standingOf ?? ((j, p, sessionId) => registry!.standingOf(j, p, sessionId, Date.now())),
  });
  const config = WardenConfigSchema.parse({ dangerouslyAllowAnonymous: true, upstreams: { a: { command: 'x' } } });
  const made = await createSubjectRegistry(config, {
    store: new MemoryStateStore(), audit, clock: () => Date.now(), logger: silentLogger(), sessions: new SessionRegistry(),
    authenticator: undefined, approvals: manager, closeSession: () => undefined, endSubscriptions: () => undefined, recheckSubscriptions: () => undefined,
    at: (p) => join(tempDir('warden-changed-standing-'), p),
  });
  registry = made.registry;
  const alice = makePrincipal({ ...principal('alice'), issuedAt: Date.now() / 1000 - 60, claims: { email: 'alice@example.com' } });

  /**
   * Alice's call asks for a person; `during` runs while its request is still being registered
   * (the event's withdrawal misses it); then an approver answers "allow and remember". Resolves
   * with the grants that exist afterwards.
   */
  const rememberAfter = async (during: () => Promise<unknown>, as?: { judgedAs: Principal; presented: Principal }): Promise<unknown[]> => {
    const call = manager.request(callRequest({ principal: as?.judgedAs ?? alice }).req, decision(), display, as ? { presented: as.presented } : {});
    await store.held;
    await during();
    store.release();
    let pending = await manager.listPending();
    while (pending.length === 0) {
      await new Promise((r) => setImmediate(r));
      pending = await manager.listPending();
    }
    const answered = await manager.answer(pending[0]!.id, { kind: 'allow_remember', ttlMs: 600_000, matchArguments: false }, admin);
    expect(answered).toMatchObject({ ok: true });
    await call;
    return manager.listGrants();
  };
  const stop = async (): Promise<void> => {
    manager.close();
    await made.stop();
  };
  return { registry, manager, alice, rememberAfter, stop, audit };
}

const input = (eventId: string) => ({ at: Date.now(), eventId, reason: 'test event' });

describe('"allow and remember" after the caller\'s standing changed remembers nothing (grant outliving a security event the withdrawal missed)', () => {
  it('control: with nothing changed, the answer remembers a grant', async () => {
    const t = await setup();
    try {
      expect(await t.rememberAfter(async () => undefined)).toHaveLength(1);
    } finally {
      await t.stop();
    }
  });

  it('a token-claims-change landing while the request was being registered: no grant (grant kept across changed claims)', async () => {
    const t = await setup();
    try {
      const grants = await t.rememberAfter(() => t.registry.overrideClaims({ user: 'alice' }, { employment: 'contractor' }, input('set-claims')));
      expect(grants).toEqual([]);
      expect(t.audit.events.filter((e) => e.type === 'grant.created')).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('a step-up landing while the request was being registered: no grant (stepped-up caller skipping the human with its next token)', async () => {
    const t = await setup();
    try {
      expect(await t.rememberAfter(() => t.registry.stepUp({ user: 'alice' }, input('set-step-up')))).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('a revocation landing while the request was being registered: no grant', async () => {
    const t = await setup();
    try {
      expect(await t.rememberAfter(() => t.registry.revoke({ user: 'alice' }, { ...input('set-revoke'), by: 'set' }))).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('a claims change matched on the token as presented (its e-mail, which an earlier override rewrote): no grant', async () => {
    const t = await setup();
    try {
      // The call is judged with an override's address; the event names the token's own address.
      const judgedAs = { ...t.alice, claims: { email: 'alice@new.example.com' } };
      const grants = await t.rememberAfter(() => t.registry.overrideClaims({ email: 'alice@example.com' }, { employment: 'contractor' }, input('set-email')), { judgedAs, presented: t.alice });
      expect(grants).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('an event for another user leaves the answer remembered', async () => {
    const t = await setup();
    try {
      expect(await t.rememberAfter(() => t.registry.overrideClaims({ user: 'bob' }, { employment: 'contractor' }, input('set-bob')))).toHaveLength(1);
    } finally {
      await t.stop();
    }
  });

  it('a standing that cannot be read counts as changed: no grant (fail closed)', async () => {
    const t = await setup(() => {
      throw new Error('registry unavailable');
    });
    try {
      expect(await t.rememberAfter(async () => undefined)).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});
