import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/principal.js';
import { sameSessionBinding, sessionBindingKey } from '../../src/proxy/session-binding.js';
import { makePrincipal } from '../helpers/principal-builder.js';

const base = makePrincipal({ issuer: 'https://idp.test', user: 'alice', actor: 'coder', priorActors: ['planner'], priorActorIssuers: [null], clientId: 'app-one' });

/** Principals that must each own sessions of their own, whatever else they share. */
const distinct: Record<string, Principal> = {
  base,
  'another user': { ...base, user: 'bob' },
  'another issuer': { ...base, issuer: 'https://other.test' },
  'another OAuth client': { ...base, clientId: 'app-two' },
  'no OAuth client': { ...base, clientId: undefined },
  'another acting agent': { ...base, actor: 'reviewer' },
  'the actor named by another issuer': { ...base, actorIssuer: 'https://agents.test' },
  'the actor with an empty issuer': { ...base, actorIssuer: '' },
  'another chain behind the agent': { ...base, priorActors: ['orchestrator'] },
  'a prior actor of another issuer': { ...base, priorActorIssuers: ['https://agents.test'] },
  'a longer chain': { ...base, priorActors: ['planner', 'orchestrator'], priorActorIssuers: [null, null] },
  'no chain behind the agent': { ...base, priorActors: [], priorActorIssuers: [] },
  'no actor': { ...base, actor: undefined, priorActors: [], priorActorIssuers: [] },
  'an empty actor': { ...base, actor: '', priorActors: [], priorActorIssuers: [] },
  'escaping lookalike (user a|x)': { ...base, user: 'alice|coder' },
};

describe('session binding', () => {
  it('a refreshed token of the same user, client and chain still fits its session', () => {
    const refreshed = { ...base, tokenId: 'jti-2', issuedAt: 2, expiresAt: 3, scopes: ['mcp'], sessionId: 'sid-2', claims: { groups: ['x'] } };
    expect(sameSessionBinding(refreshed, base)).toBe(true);
    expect(sessionBindingKey(refreshed)).toBe(sessionBindingKey(base));
  });

  it.each(Object.keys(distinct).filter((k) => k !== 'base'))('blocks %s from using the session (session hijack)', (name) => {
    expect(sameSessionBinding(distinct[name]!, base)).toBe(false);
  });

  it('the key that counts a client\'s sessions agrees with the per-request comparison for every pair', () => {
    const all = Object.entries(distinct);
    for (const [na, a] of all) {
      for (const [nb, b] of all) {
        expect({ pair: [na, nb], same: sessionBindingKey(a) === sessionBindingKey(b) }).toEqual({ pair: [na, nb], same: sameSessionBinding(a, b) });
      }
    }
  });
});
