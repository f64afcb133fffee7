import { describe, expect, it } from 'vitest';
import { checkSessionCaps, pickEvictable } from '../../src/proxy/session-caps.js';

const caps = { maxSessions: 4, maxSessionsPerPrincipal: 2 };

describe('checkSessionCaps', () => {
  it('allows sessions up to both caps', () => {
    expect(checkSessionCaps([], 'alice', caps)).toBeUndefined();
    expect(checkSessionCaps(['alice', 'bob', 'carol'], 'alice', caps)).toBeUndefined();
  });

  it('one principal opening sessions in a loop is stopped at its own cap (429)', () => {
    expect(checkSessionCaps(['alice', 'alice', 'bob'], 'alice', caps)).toMatchObject({ status: 429, reason: 'too_many_sessions_for_principal', open: 2, limit: 2 });
    // Others still get theirs.
    expect(checkSessionCaps(['alice', 'alice', 'bob'], 'bob', caps)).toBeUndefined();
  });

  it('warden full for everyone is 503, and the principal cap is reported first', () => {
    expect(checkSessionCaps(['a', 'b', 'c', 'd'], 'e', caps)).toMatchObject({ status: 503, reason: 'too_many_sessions', open: 4, limit: 4 });
    expect(checkSessionCaps(['a', 'a', 'c', 'd'], 'a', caps)).toMatchObject({ status: 429 });
  });
});

describe('pickEvictable', () => {
  const s = (owner: string, lastSeen: number, active = 0, streams = 0) => ({ owner, lastSeen, active, streams });

  it('picks the principal\'s own least recently seen session that nobody is attached to', () => {
    const sessions = [s('alice', 30), s('alice', 10), s('alice', 5, 1), s('alice', 1, 0, 1), s('bob', 0)];
    expect(pickEvictable(sessions, 'alice')).toBe(sessions[1]);
  });

  it('never evicts a live agent (request in flight or GET stream open) or another principal\'s session', () => {
    expect(pickEvictable([s('alice', 1, 1), s('alice', 2, 0, 1), s('bob', 0)], 'alice')).toBeUndefined();
  });
});
