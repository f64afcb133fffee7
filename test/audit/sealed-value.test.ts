import { describe, expect, it } from 'vitest';
import { principalSummary } from '../../src/audit/events.js';
import { createCanonicalRedactor } from '../../src/audit/redact-canonical.js';
import { isSealedForAudit, sealForAudit } from '../../src/audit/sealed-value.js';
import type { Principal } from '../../src/core/principal.js';
import { makePrincipal } from '../helpers/principal-builder.js';

const base: Principal = makePrincipal({
  issuer: 'https://idp', user: 'alice', actor: 'agent-1', priorActors: ['planner'], clientId: 'c',
  scopes: ['read'], sessionId: 'idp-s', authTime: 1, issuedAt: 1, expiresAt: 2, tokenId: 'jti',
});
const frozenPrincipal = (): Principal => Object.freeze({ ...base, priorActors: Object.freeze([...base.priorActors]), scopes: Object.freeze([...base.scopes]) });

describe('values sealed for the audit', () => {
  it('serialise exactly like the same value unsealed, under every field name asked', () => {
    const serialize = createCanonicalRedactor({ paths: ['principal.user'], patterns: ['agent-\\d'] });
    const plain = { user: 'alice', actor: 'agent-1', nested: { password: 'hunter2', list: ['Bearer abcdefghijklmnop'] } };
    const sealed = sealForAudit(structuredClone(plain));
    for (const key of ['principal', 'who', 'principal', 'who']) expect(serialize(sealed, key)).toBe(serialize(plain, key));
    expect(serialize(sealed, 'principal')).not.toContain('alice');
    expect(serialize(sealed, 'principal')).not.toContain('hunter2');
  });

  it('cannot be changed after sealing (so cached text can never go stale)', () => {
    const sealed = sealForAudit({ a: { b: ['x'] } });
    expect(() => {
      (sealed.a.b as string[]).push('y');
    }).toThrow(TypeError);
    expect(Object.isFrozen(sealed.a)).toBe(true);
    expect(isSealedForAudit(sealed)).toBe(true);
    expect(isSealedForAudit({ a: 1 })).toBe(false);
  });

  it('principalSummary reuses one sealed summary per frozen principal, and rebuilds for mutable ones', () => {
    const p = frozenPrincipal();
    const s = principalSummary(p);
    expect(principalSummary(p)).toBe(s);
    expect(isSealedForAudit(s)).toBe(true);
    expect(s).toEqual({ issuer: 'https://idp', user: 'alice', actor: 'agent-1', actorChain: ['agent-1', 'planner'], actorIssuer: null, actorChainIssuers: [null, null], clientId: 'c', scopes: ['read'], idpSessionId: 'idp-s', tokenId: 'jti', anonymous: false });
    const mutable: Principal = { ...base, scopes: ['read'] };
    const first = principalSummary(mutable);
    (mutable as { user: string }).user = 'mallory';
    expect(first.user).toBe('alice');
    expect(principalSummary(mutable).user).toBe('mallory');
    expect(isSealedForAudit(first)).toBe(false);
  });
});
