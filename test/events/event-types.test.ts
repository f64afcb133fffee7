import { describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { reactionFor } from '../../src/events/event-types.js';
import { parseSubject } from '../../src/events/subject.js';
import { CAEP } from './set-helpers.js';

const config = EventsConfigSchema.parse({ transmitter: { issuer: 'i', audience: 'a', keys: { jwksFile: 'x' } } });

describe('reactionFor', () => {
  it.each([
    ['session-revoked', {}, 'revoke'],
    ['credential-change', { change_type: 'revoke' }, 'revoke'],
    ['credential-change', { change_type: 'delete' }, 'revoke'],
    ['credential-change', { change_type: 'update' }, 'none'],
    ['assurance-level-change', { previous_level: 'aal3', current_level: 'aal2' }, 'step_up'],
    ['assurance-level-change', { previous_level: 'aal1', current_level: 'aal2' }, 'none'],
    ['assurance-level-change', { previous_level: 'x', current_level: 'y', change_direction: 'decrease' }, 'step_up'],
    ['assurance-level-change', { previous_level: 'x', current_level: 'y' }, 'none'],
    ['device-compliance-change', { previous_status: 'compliant', current_status: 'not-compliant' }, 'step_up'],
    ['device-compliance-change', { previous_status: 'not-compliant', current_status: 'compliant' }, 'none'],
    ['risk-level-change', { previous_level: 'LOW', current_level: 'MEDIUM' }, 'step_up'],
    ['risk-level-change', { current_level: 'HIGH' }, 'step_up'],
    ['risk-level-change', { previous_level: 'HIGH', current_level: 'HIGH' }, 'none'],
    ['token-claims-change', { claims: { role: 'x' } }, 'claims'],
    ['token-claims-change', {}, 'none'],
  ])('%s %j -> %s', (name, event, kind) => {
    expect(reactionFor(`${CAEP}${name}`, event, config).kind).toBe(kind);
  });

  it('follows configured reactions (risk-level-change: revoke, session-revoked: ignore)', () => {
    const strict = EventsConfigSchema.parse({
      transmitter: { issuer: 'i', audience: 'a', keys: { jwksFile: 'x' } },
      reactions: { 'risk-level-change': 'revoke', 'session-revoked': 'ignore' },
    });
    expect(reactionFor(`${CAEP}risk-level-change`, { previous_level: 'low', current_level: 'high' }, strict).kind).toBe('revoke');
    expect(reactionFor(`${CAEP}session-revoked`, {}, strict).kind).toBe('none');
  });

  it('ignores non-CAEP event types', () => {
    expect(reactionFor('https://example.com/session-revoked', {}, config).kind).toBe('none');
  });
});

describe('parseSubject', () => {
  it.each([
    [{ format: 'iss_sub', iss: 'i', sub: 's' }, { issuer: 'i', user: 's' }],
    [{ format: 'email', email: 'a@b.c' }, { email: 'a@b.c' }],
    [{ format: 'opaque', id: 'u1' }, { user: 'u1' }],
    [{ format: 'account', uri: 'acct:a@b.c' }, { email: 'a@b.c' }],
    [{ format: 'complex', user: { format: 'opaque', id: 'u' }, session: { format: 'opaque', id: 's' } }, { user: 'u', idpSession: 's' }],
    [{ subject_type: 'iss_sub', iss: 'i', sub: 's' }, { issuer: 'i', user: 's' }],
  ])('%j', (raw, match) => {
    expect(parseSubject(raw)).toEqual({ kind: 'ok', match });
  });

  it.each([[null], ['alice'], [{ format: 'phone_number', phone_number: '+1' }], [{ format: 'iss_sub', sub: 's' }], [{ format: 'complex' }]])(
    'unsupported %j',
    (raw) => {
      expect(parseSubject(raw).kind).toBe('unsupported');
    },
  );

  it('rejects config typos with the key path', () => {
    const r = EventsConfigSchema.safeParse({ transmitter: { issuer: 'i', audience: 'a', keys: { jwksFile: 'x' } }, reactons: {} });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe('unrecognized_keys');
  });
});
