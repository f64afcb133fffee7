import { describe, expect, it } from 'vitest';
import { principalKey } from '../../src/core/principal.js';

describe('principalKey', () => {
  it('two principals never share a key by moving a | between user and actor (session owner, rate windows)', () => {
    const a = principalKey({ issuer: 'https://idp', user: 'a|x', actor: 'y' });
    const b = principalKey({ issuer: 'https://idp', user: 'a', actor: 'x|y' });
    expect(a).not.toBe(b);
    expect(principalKey({ issuer: 'i', user: 'a\\\\', actor: '|b' })).not.toBe(principalKey({ issuer: 'i', user: 'a\\\\|', actor: 'b' }));
  });

  it('is unchanged for ordinary names', () => {
    expect(principalKey({ issuer: 'https://idp', user: 'alice', actor: 'agent-7' })).toBe('https://idp|alice|agent-7');
    expect(principalKey({ issuer: 'https://idp', user: 'alice', actor: undefined })).toBe('https://idp|alice|');
  });
});
