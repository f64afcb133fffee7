import { describe, expect, it } from 'vitest';
import { checkSessionCaps, clientSessionCap, pickEvictable } from '../../src/proxy/session-caps.js';

const caps = { maxSessions: 4, maxSessionsPerPrincipal: 2, maxSessionsPerClient: 2 };
/** A session of `owner` opened through `client` (the binding: owner + chain + OAuth client). */
const of = (owner: string, client = 'app') => ({ owner, binding: `${owner}/${client}` });

describe('checkSessionCaps', () => {
  it('allows sessions up to every cap', () => {
    expect(checkSessionCaps([], of('alice'), caps)).toBeUndefined();
    expect(checkSessionCaps([of('alice'), of('bob'), of('carol')], of('alice'), caps)).toBeUndefined();
  });

  it('one principal opening sessions in a loop is stopped at its own cap (429)', () => {
    expect(checkSessionCaps([of('alice'), of('alice'), of('bob')], of('alice'), caps)).toMatchObject({ status: 429, reason: 'too_many_sessions_for_principal', open: 2, limit: 2 });
    // Others still get theirs.
    expect(checkSessionCaps([of('alice'), of('alice'), of('bob')], of('bob'), caps)).toBeUndefined();
  });

  it('one user cannot lift its cap by presenting tokens of more clients', () => {
    expect(checkSessionCaps([of('alice', 'one'), of('alice', 'two')], of('alice', 'three'), caps)).toMatchObject({ status: 429, reason: 'too_many_sessions_for_principal' });
  });

  it('one client of a principal is stopped at its share of the principal\'s sessions, another client still gets in', () => {
    const perClient = { ...caps, maxSessionsPerPrincipal: 3, maxSessionsPerClient: 2 };
    expect(checkSessionCaps([of('alice', 'one'), of('alice', 'one')], of('alice', 'one'), perClient)).toMatchObject({ status: 429, reason: 'too_many_sessions_for_client', open: 2, limit: 2 });
    expect(checkSessionCaps([of('alice', 'one'), of('alice', 'one')], of('alice', 'two'), perClient)).toBeUndefined();
  });

  it('warden full for everyone is 503, and the principal cap is reported first', () => {
    expect(checkSessionCaps([of('a'), of('b'), of('c'), of('d')], of('e'), caps)).toMatchObject({ status: 503, reason: 'too_many_sessions', open: 4, limit: 4 });
    expect(checkSessionCaps([of('a'), of('a'), of('c'), of('d')], of('a'), caps)).toMatchObject({ status: 429, reason: 'too_many_sessions_for_principal' });
  });
});

describe('clientSessionCap', () => {
  it('is maxSessionsPerClient when set, else half the principal\'s cap rounded up', () => {
    expect(clientSessionCap({ maxSessionsPerPrincipal: 8, maxSessionsPerClient: 8 })).toBe(8);
    expect(clientSessionCap({ maxSessionsPerPrincipal: 8, maxSessionsPerClient: undefined })).toBe(4);
    expect(clientSessionCap({ maxSessionsPerPrincipal: 3, maxSessionsPerClient: undefined })).toBe(2);
    expect(clientSessionCap({ maxSessionsPerPrincipal: 1, maxSessionsPerClient: undefined })).toBe(1);
  });
});

describe('pickEvictable', () => {
  const s = (binding: string, lastSeen: number, active = 0, streams = 0) => ({ owner: binding.split('/')[0]!, binding, lastSeen, active, streams });

  it('picks the client\'s own least recently seen session that nobody is attached to', () => {
    const sessions = [s('alice/app', 30), s('alice/app', 10), s('alice/app', 5, 1), s('alice/app', 1, 0, 1), s('bob/app', 0)];
    expect(pickEvictable(sessions, 'alice/app')).toBe(sessions[1]);
  });

  it('never evicts a live agent (request in flight or GET stream open) or another principal\'s session', () => {
    expect(pickEvictable([s('alice/app', 1, 1), s('alice/app', 2, 0, 1), s('bob/app', 0)], 'alice/app')).toBeUndefined();
  });

  it('never evicts the session of another client or chain of the same principal (cross-app eviction)', () => {
    expect(pickEvictable([s('alice/other-app', 0), s('alice/app-via-planner', 0)], 'alice/app')).toBeUndefined();
  });
});
