import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsStepUp } from '../../src/events/registry-rules.js';
import { CAEP, ISSUER, mintSet, post, principal } from './set-helpers.js';
import { NOW_SEC, startFixture, type ReceiverFixture } from './receiver-fixture.js';

const OLD = NOW_SEC - 600; // token issued before the events
const NEW = NOW_SEC + 5; // token issued after the events

describe('SET receiver: reactions over real HTTP', () => {
  let f: ReceiverFixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(async () => f.close());

  it('session-revoked revokes old tokens of the subject, not newer ones, and calls onRevoke', async () => {
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'iss_sub', iss: ISSUER, sub: 'alice' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC } },
    });
    const res = await post(f.receiver.url, set);
    expect(res.status).toBe(202);
    const old = f.registry.evaluate(principal({ issuedAt: OLD }), 'w-alice', f.now);
    expect(old.kind).toBe('revoked');
    expect(f.registry.evaluate(principal({ issuedAt: NOW_SEC }), 'w-other', f.now).kind).toBe('revoked');
    expect(f.registry.evaluate(principal({ issuedAt: NEW }), 'w-new', f.now)).toEqual({ kind: 'ok' });
    expect(f.registry.evaluate(principal({ user: 'bob', issuedAt: OLD }), 'w-bob', f.now)).toEqual({ kind: 'ok' });
    // Another issuer's "alice" is a different person.
    expect(f.registry.evaluate(principal({ issuer: 'https://other', issuedAt: OLD }), 'x', f.now).kind).toBe('ok');
    expect(f.revoked).toHaveLength(1);
    expect(f.revoked[0]?.match).toEqual({ issuer: ISSUER, user: 'alice' });
    expect(f.revoked[0]?.sessionIds).toEqual(['w-alice']);
    expect(f.revoked[0]?.affects(principal({ issuedAt: OLD }), 'w-alice')).toBe(true);
    expect(f.revoked[0]?.affects(principal({ issuedAt: NEW }), 'w-alice')).toBe(false);
    expect(f.audit.ofType('event.received').at(-1)).toMatchObject({ accepted: true, duplicate: false });
    expect(f.audit.ofType('event.effect').at(-1)).toMatchObject({ effect: 'revoke' });
    expect(f.audit.ofType('revocation')).toHaveLength(1);
  });

  it('credential-change revoke revokes by e-mail subject; change_type create does nothing', async () => {
    const create = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'email', email: 'carol@example.com' },
      events: { [`${CAEP}credential-change`]: { credential_type: 'fido2-roaming', change_type: 'create' } },
    });
    expect((await post(f.receiver.url, create)).status).toBe(202);
    const carol = principal({ user: 'carol-id', sessionId: undefined, claims: { email: 'Carol@Example.com' }, issuedAt: OLD });
    expect(f.registry.evaluate(carol, 's', f.now).kind).toBe('ok');
    expect(f.audit.ofType('event.effect').at(-1)).toMatchObject({ effect: 'none' });
    const revoke = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'email', email: 'carol@example.com' },
      events: { [`${CAEP}credential-change`]: { credential_type: 'password', change_type: 'revoke' } },
    });
    expect((await post(f.receiver.url, revoke)).status).toBe(202);
    expect(f.registry.evaluate(carol, 's', f.now).kind).toBe('revoked');
    expect(f.registry.evaluate({ ...carol, issuedAt: NEW }, 's', f.now).kind).toBe('ok');
  });

  it('assurance-level-change downward requires step-up until a fresher token arrives', async () => {
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'opaque', id: 'dave' },
      events: { [`${CAEP}assurance-level-change`]: { namespace: 'NIST-AAL', previous_level: 'nist-aal2', current_level: 'nist-aal1' } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    const verdict = f.registry.evaluate(principal({ user: 'dave', sessionId: undefined, claims: {}, issuedAt: OLD }), 's', f.now);
    expect(verdict).toMatchObject({ kind: 'step_up', minSensitivity: 'high', action: 'approve' });
    if (verdict.kind !== 'step_up') throw new Error('unreachable');
    expect(needsStepUp('high', verdict.minSensitivity)).toBe(true);
    expect(needsStepUp('critical', verdict.minSensitivity)).toBe(true);
    expect(needsStepUp('medium', verdict.minSensitivity)).toBe(false);
    expect(f.registry.evaluate(principal({ user: 'dave', sessionId: undefined, claims: {}, issuedAt: NEW }), 's', f.now)).toEqual({ kind: 'ok' });
    expect(f.audit.ofType('event.effect').at(-1)).toMatchObject({
      effect: 'step_up',
      subject: 'user=dave',
      details: { namespace: 'NIST-AAL', previous_level: 'nist-aal2', current_level: 'nist-aal1' },
    });
  });

  it('assurance-level-change upward and risk-level-change downward have no effect', async () => {
    const before = f.registry.list().length;
    const cases: Record<string, Record<string, unknown>>[] = [
      { [`${CAEP}assurance-level-change`]: { namespace: 'NIST-AAL', previous_level: 'nist-aal1', current_level: 'nist-aal2' } },
      { [`${CAEP}risk-level-change`]: { risk_reason: 'x', principal: 'USER', previous_level: 'HIGH', current_level: 'LOW' } },
    ];
    for (const events of cases) {
      const set = await mintSet({ key: f.key, iatSec: NOW_SEC, subId: { format: 'opaque', id: 'erin' }, events });
      expect((await post(f.receiver.url, set)).status).toBe(202);
    }
    expect(f.registry.list()).toHaveLength(before);
  });

  it('risk-level-change upward and device-compliance-change to not-compliant step up', async () => {
    const risk = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'opaque', id: 'frank' },
      events: { [`${CAEP}risk-level-change`]: { principal: 'USER', previous_level: 'LOW', current_level: 'HIGH' } },
    });
    expect((await post(f.receiver.url, risk)).status).toBe(202);
    expect(f.registry.evaluate(principal({ user: 'frank', sessionId: undefined, issuedAt: OLD }), 's', f.now).kind).toBe('step_up');
    const device = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'complex', user: { format: 'opaque', id: 'gina' }, device: { format: 'opaque', id: 'laptop-9' } },
      events: { [`${CAEP}device-compliance-change`]: { previous_status: 'compliant', current_status: 'not-compliant' } },
    });
    expect((await post(f.receiver.url, device)).status).toBe(202);
    const onLaptop = principal({ user: 'gina', sessionId: undefined, claims: { device_id: 'laptop-9' }, issuedAt: OLD });
    expect(f.registry.evaluate(onLaptop, 's', f.now).kind).toBe('step_up');
    // The same user on another device is not affected: complex subjects match on every member.
    expect(f.registry.evaluate({ ...onLaptop, claims: { device_id: 'phone-1' } }, 's', f.now).kind).toBe('ok');
  });

  it('token-claims-change calls onClaimsChange and overrides claims until a newer token', async () => {
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'iss_sub', iss: ISSUER, sub: 'hank' },
      events: { [`${CAEP}token-claims-change`]: { claims: { role: 'guest', sub: 'mallory', scope: 'read' } } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.claimChanges.at(-1)?.match).toEqual({ issuer: ISSUER, user: 'hank' });
    const hank = principal({ user: 'hank', claims: { role: 'admin' }, issuedAt: OLD });
    const eff = f.registry.effectivePrincipal(hank, 's', f.now);
    expect(eff.claims.role).toBe('guest');
    expect(eff.scopes).toEqual(['read']);
    expect(eff.user).toBe('hank'); // identity claims are never overridden
    expect(f.registry.evaluate(hank, 's', f.now)).toEqual({ kind: 'ok' });
    expect(f.registry.effectivePrincipal({ ...hank, issuedAt: NEW }, 's', f.now).claims.role).toBe('admin');
  });

  it('complex user+session subject revokes only that identity-provider session', async () => {
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'complex', user: { format: 'opaque', id: 'ivan' }, session: { format: 'opaque', id: 'idp-ivan-1' } },
      events: { [`${CAEP}session-revoked`]: {} },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.registry.evaluate(principal({ user: 'ivan', sessionId: 'idp-ivan-1', issuedAt: OLD }), 'a', f.now).kind).toBe('revoked');
    expect(f.registry.evaluate(principal({ user: 'ivan', sessionId: 'idp-ivan-2', issuedAt: OLD }), 'b', f.now).kind).toBe('ok');
  });

  it('accepts typ in its full media-type form (application/secevent+jwt)', async () => {
    const set = await mintSet({ key: f.key, iatSec: NOW_SEC, typ: 'application/secevent+jwt', subId: { format: 'opaque', id: 'liam' }, events: { [`${CAEP}session-revoked`]: {} } });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.registry.evaluate(principal({ user: 'liam', issuedAt: OLD }), 'a', f.now).kind).toBe('revoked');
  });

  it('accepts the older CAEP draft subject inside the event', async () => {
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      events: { [`${CAEP}session-revoked`]: { subject: { subject_type: 'iss_sub', iss: ISSUER, sub: 'judy' } } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.registry.evaluate(principal({ user: 'judy', issuedAt: OLD }), 'a', f.now).kind).toBe('revoked');
  });

  it('a future event_timestamp cannot pre-revoke tokens issued after the clock tolerance', async () => {
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'opaque', id: 'kate' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC + 3600 } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    // The cut-off may lie ahead of receipt by the clock tolerance (an IdP clock running ahead), no further.
    expect(f.registry.evaluate(principal({ user: 'kate', issuedAt: NOW_SEC + f.config.clockToleranceSeconds + 1 }), 'a', f.now).kind).toBe('ok');
  });

  it('unknown event types and unsupported subjects are acknowledged without effect', async () => {
    const before = f.registry.list().length;
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'phone_number', phone_number: '+15551234' },
      events: {
        'https://schemas.openid.net/secevent/ssf/event-type/verification': { state: 'abc' },
        [`${CAEP}session-revoked`]: {},
      },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.registry.list()).toHaveLength(before);
    expect(f.audit.ofType('event.effect').slice(-2).every((r) => r.effect === 'none')).toBe(true);
  });
});

describe('SET receiver: an issuer it cannot match', () => {
  it('warns the operator in the log when an event names an issuer that is not a configured token issuer', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const f = await startFixture({}, { tokenIssuers: [ISSUER], logger });
    try {
      const set = await mintSet({ key: f.key, iatSec: NOW_SEC, subId: { format: 'iss_sub', iss: `${ISSUER}/`, sub: 'alice' }, events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC } } });
      expect((await post(f.receiver.url, set)).status).toBe(202);
      const warning = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('not a configured token issuer'));
      expect(warning).toMatchObject({ issuer: `${ISSUER}/`, tokenIssuers: [ISSUER] });
      // The event about alice at the configured issuer, spelled the same, is not warned about.
      lines.length = 0;
      const same = await mintSet({ key: f.key, iatSec: NOW_SEC, subId: { format: 'iss_sub', iss: ISSUER, sub: 'alice' }, events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC } } });
      expect((await post(f.receiver.url, same)).status).toBe(202);
      expect(lines).toEqual([]);
    } finally {
      await f.close();
    }
  });
});
