import type { Principal } from '../../src/core/principal.js';

/**
 * A principal for tests with only what the test names: every other field empty (no actor,
 * no chain, no scopes, no times, no claims). One place for the shape, so a new Principal field
 * is added here once instead of in every test's literal.
 */
export function makePrincipal(fields: Partial<Principal> & Pick<Principal, 'issuer' | 'user'>): Principal {
  return {
    actor: undefined,
    priorActors: [],
    clientId: undefined,
    scopes: [],
    sessionId: undefined,
    authTime: undefined,
    acr: undefined,
    amr: [],
    issuedAt: undefined,
    expiresAt: undefined,
    tokenId: undefined,
    claims: {},
    anonymous: false,
    ...fields,
  };
}
