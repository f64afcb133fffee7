import type { AuthResult, Authenticator } from '../core/authenticator.js';
import type { Principal } from '../core/principal.js';

/** The principal used in `dangerouslyAllowAnonymous` mode. `anonymous: true` marks every log and audit record. */
export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  issuer: '',
  user: 'anonymous',
  actor: undefined,
  // Deeply frozen, like verified principals: nothing can change it, so its audit summary is built once.
  priorActors: Object.freeze([]),
  clientId: undefined,
  scopes: Object.freeze([]),
  sessionId: undefined,
  authTime: undefined,
  acr: undefined,
  amr: Object.freeze([]),
  issuedAt: undefined,
  expiresAt: undefined,
  tokenId: undefined,
  claims: Object.freeze({}),
  anonymous: true,
});

/**
 * Accepts every caller as the anonymous principal. Only reachable through the explicitly unsafe
 * `dangerouslyAllowAnonymous: true` setting, for local development.
 */
export function createAnonymousAuthenticator(): Authenticator {
  const ok: AuthResult = { ok: true, principal: ANONYMOUS_PRINCIPAL };
  return {
    authenticateHttp: async () => ok,
    authenticateStdio: () => ok,
  };
}
