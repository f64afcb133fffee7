import { describe, expect, it, vi } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import type { SubjectEffect } from '../../src/events/registry-entry.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { SessionRegistry } from '../../src/sessions/session-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { ISSUER, MemoryAudit, principal } from './set-helpers.js';

const T0 = 1_700_000_000_000;

function setup(settings?: Parameters<typeof EventsConfigSchema.parse>[0]) {
  let now = T0;
  const store = new MemoryStateStore();
  const audit = new MemoryAudit();
  const sessions = new SessionRegistry();
  const revoked: SubjectEffect[] = [];
  const config = settings ? EventsConfigSchema.parse(settings) : undefined;
  const registry = new SubjectRegistry({
    settings: config,
    store,
    audit,
    clock: () => now,
    sessions,
    onRevoke: (e) => void revoked.push(e),
  });
  return { registry, store, audit, sessions, revoked, advance: (ms: number) => (now += ms), now: () => now };
}

const base = { transmitter: { issuer: ISSUER, audience: 'a', keys: { jwksFile: 'x' } } };

describe('SubjectRegistry', () => {
  it('is ok for everyone when empty', () => {
    const { registry } = setup();
    expect(registry.evaluate(principal(), 's', T0)).toEqual({ kind: 'ok' });
    expect(registry.effectivePrincipal(principal(), 's', T0)).toEqual(principal());
  });

  it('manual revoke by user blocks tokens issued up to now, and audits who did it', async () => {
    const { registry, audit, advance, now } = setup();
    const { entry } = await registry.revokeManually({ user: 'alice' }, 'admin:ops');
    expect(entry.kind).toBe('revoke');
    expect(registry.evaluate(principal({ issuedAt: T0 / 1000 }), 's', now())).toMatchObject({ kind: 'revoked', eventId: entry.eventId });
    advance(2000);
    expect(registry.evaluate(principal({ issuedAt: T0 / 1000 + 1 }), 's', now())).toEqual({ kind: 'ok' });
    expect(audit.ofType('revocation')[0]).toMatchObject({ by: 'admin:ops', subject: { user: 'alice' } });
  });

  it('manual revoke by warden session kills that session whatever token it presents', async () => {
    const { registry, sessions, revoked } = setup();
    sessions.opened({ sessionId: 'w1', principal: principal(), transport: 'http', remoteAddress: undefined, userAgent: undefined, openedAt: T0 });
    const { sessionIds } = await registry.revokeManually({ session: 'w1' }, 'admin:ops');
    expect(sessionIds).toEqual(['w1']);
    expect(revoked[0]?.sessionIds).toEqual(['w1']);
    expect(registry.evaluate(principal({ issuedAt: T0 / 1000 + 99 }), 'w1', T0).kind).toBe('revoked');
    expect(registry.evaluate(principal({ issuedAt: 1 }), 'w2', T0).kind).toBe('ok');
  });

  it('manual revoke by agent blocks that agent for every user, not the users themselves', async () => {
    const { registry } = setup();
    await registry.revokeManually({ agent: 'agent-7' }, 'admin:ops');
    expect(registry.evaluate(principal({ user: 'zed', issuedAt: 1 }), 's', T0).kind).toBe('revoked');
    expect(registry.evaluate(principal({ actor: 'agent-8', issuedAt: 1 }), 's', T0).kind).toBe('ok');
    expect(registry.evaluate(principal({ actor: undefined, issuedAt: 1 }), 's', T0).kind).toBe('ok');
  });

  it('rejects an empty manual target', async () => {
    const { registry } = setup();
    await expect(registry.revokeManually({ user: '' }, 'x')).rejects.toMatchObject({ code: 'revoke_target_invalid' });
  });

  it('treats a token without iat as revoked (it cannot prove it is newer)', async () => {
    const { registry } = setup();
    await registry.revoke({ user: 'alice' }, { at: T0, eventId: 'e', reason: 'r', by: 'test' });
    expect(registry.evaluate(principal({ issuedAt: undefined }), 's', T0).kind).toBe('revoked');
  });

  it('revocation wins over step-up, and the strictest step-up wins', async () => {
    const { registry } = setup({ ...base, stepUp: { minSensitivity: 'critical', action: 'approve' } });
    await registry.stepUp({ user: 'alice' }, { at: T0, eventId: 'e1', reason: 'r1' });
    expect(registry.evaluate(principal({ issuedAt: 1 }), 's', T0)).toMatchObject({ kind: 'step_up', minSensitivity: 'critical', action: 'approve' });
    await registry.revoke({ user: 'alice' }, { at: T0, eventId: 'e2', reason: 'r2', by: 'test' });
    expect(registry.evaluate(principal({ issuedAt: 1 }), 's', T0)).toMatchObject({ kind: 'revoked', eventId: 'e2' });
  });

  it('step-up action block is configurable', async () => {
    const { registry } = setup({ ...base, stepUp: { minSensitivity: 'medium', action: 'block' } });
    await registry.stepUp({ email: 'alice@example.com' }, { at: T0, eventId: 'e1', reason: 'r1' });
    expect(registry.evaluate(principal({ issuedAt: 1 }), 's', T0)).toMatchObject({ kind: 'step_up', minSensitivity: 'medium', action: 'block' });
  });

  it('entries expire after the retention window', async () => {
    const { registry, advance, now } = setup({ ...base, retentionSeconds: 3600 });
    await registry.revoke({ user: 'alice' }, { at: T0, eventId: 'e', reason: 'r', by: 'test' });
    advance(3600_000 + 1);
    expect(registry.evaluate(principal({ issuedAt: 1 }), 's', now()).kind).toBe('ok');
    expect(registry.list(now())).toHaveLength(0);
  });

  it('a second registry on the same store loads existing entries (restart / replica)', async () => {
    const { registry, store, audit } = setup();
    await registry.revoke({ user: 'alice' }, { at: T0, eventId: 'e', reason: 'r', by: 'test' });
    const again = new SubjectRegistry({ store, audit, clock: () => T0 });
    expect(again.evaluate(principal({ issuedAt: 1 }), 's', T0).kind).toBe('ok');
    await again.load();
    await again.load(); // idempotent
    expect(again.list()).toHaveLength(1);
    expect(again.evaluate(principal({ issuedAt: 1 }), 's', T0).kind).toBe('revoked');
  });

  it('syncEvery picks up entries another replica wrote to the shared store', async () => {
    vi.useFakeTimers();
    try {
      const { registry, store, audit } = setup();
      const replica = new SubjectRegistry({ store, audit, clock: () => T0 });
      const stop = replica.syncEvery(1000);
      await registry.revokeManually({ user: 'alice' }, 'admin:ops');
      expect(replica.evaluate(principal({ issuedAt: 1 }), 's', T0).kind).toBe('ok');
      await vi.advanceTimersByTimeAsync(1000);
      expect(replica.evaluate(principal({ issuedAt: 1 }), 's', T0).kind).toBe('revoked');
      stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a failing onRevoke hook does not undo the revocation', async () => {
    const store = new MemoryStateStore();
    const registry = new SubjectRegistry({
      store,
      audit: new MemoryAudit(),
      clock: () => T0,
      onRevoke: () => {
        throw new Error('approvals down');
      },
    });
    await registry.revokeManually({ user: 'alice' }, 'x');
    expect(registry.evaluate(principal({ issuedAt: 1 }), 's', T0).kind).toBe('revoked');
  });

  it('claim overrides never touch identity or prototype keys', async () => {
    const { registry } = setup();
    await registry.overrideClaims({ user: 'alice' }, JSON.parse('{"iss":"x","act":{"sub":"evil"},"__proto__":{"polluted":true},"tier":"gold","acr":"low"}'), {
      at: T0,
      eventId: 'e',
      reason: 'r',
    });
    const eff = registry.effectivePrincipal(principal({ issuedAt: 1 }), 's', T0);
    expect(eff.claims.tier).toBe('gold');
    expect(eff.acr).toBe('low');
    expect(eff.issuer).toBe(ISSUER);
    expect(Object.prototype.hasOwnProperty.call(eff.claims, 'iss')).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('evaluationVerdict', () => {
  it('maps revoked to block, step-up to its action only at or above the threshold', async () => {
    const { evaluationVerdict } = await import('../../src/events/registry-rules.js');
    expect(evaluationVerdict({ kind: 'ok' }, 'critical')).toBeUndefined();
    expect(evaluationVerdict({ kind: 'revoked', eventId: 'e', reason: 'r' }, 'low')).toMatchObject({ action: 'block', reason: { code: 'subject.revoked' } });
    const up = { kind: 'step_up', minSensitivity: 'high', action: 'approve', eventId: 'e', reason: 'r' } as const;
    expect(evaluationVerdict(up, 'medium')).toBeUndefined();
    expect(evaluationVerdict(up, 'high')).toMatchObject({ action: 'approve', reason: { code: 'subject.step_up' } });
  });
});
