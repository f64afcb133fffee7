import { describe, expect, it } from 'vitest';
import { checkSessionCaps } from '../../src/proxy/session-caps.js';

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
