import { describe, expect, it } from 'vitest';
import { principalKey } from '../../src/core/principal.js';

describe('principalKey', () => {
  it('two principals never share a key by moving a | between user and actor (session owner, rate windows)', () => {
    const a = principalKey({ issuer: 'https://idp', user: 'a|x', actor: 'y' });
    const b = principalKey({ issuer: 'https://idp', user: 'a', actor: 'x|y' });
    expect(a).not.toBe(b);
    expect(principalKey({ issuer: 'i', user: 'a\\\\', actor: '|b' })).not.toBe(principalKey({ issuer: 'i', user: 'a\\\\|', actor: 'b' }));
  });

  it('an actor with the same sub from another issuer (or from none) is another principal: no shared session, windows or baselines', () => {
    const base = { issuer: 'https://idp', user: 'alice', actor: 'agent-7' };
    const keys = [
      principalKey(base),
      principalKey({ ...base, actorIssuer: 'https://agents.a' }),
      principalKey({ ...base, actorIssuer: 'https://agents.b' }),
      principalKey({ ...base, actorIssuer: '' }),
      // Escaping still holds with the fourth part: `|` cannot move between actor and its issuer.
      principalKey({ ...base, actor: 'agent-7|x', actorIssuer: 'y' }),
      principalKey({ ...base, actor: 'agent-7', actorIssuer: 'x|y' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(principalKey({ ...base, actorIssuer: 'https://agents.a' })).toBe(principalKey({ ...base, actorIssuer: 'https://agents.a' }));
  });

  it('is unchanged for ordinary names', () => {
    expect(principalKey({ issuer: 'https://idp', user: 'alice', actor: 'agent-7' })).toBe('https://idp|alice|agent-7');
    expect(principalKey({ issuer: 'https://idp', user: 'alice', actor: undefined })).toBe('https://idp|alice|');
  });
});
