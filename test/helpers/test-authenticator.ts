import type { AuthResult, Authenticator } from '../../src/core/authenticator.js';
import type { Principal } from '../../src/core/principal.js';
import { makePrincipal } from './principal-builder.js';

/** A principal for tests: user + optional acting agent, everything else empty. */
export function testPrincipal(user: string, actor?: string, issuer = 'https://idp.test'): Principal {
  return makePrincipal({ issuer, user, actor });
}

/**
 * Maps bearer strings to principals (`{ 'alice-token': testPrincipal('alice') }`). Unknown or
 * missing tokens are 401 with a WWW-Authenticate header. For stdio, `stdioToken` picks the entry
 * (mutable, to simulate expiry: set it to an unknown value).
 */
export function createTestAuthenticator(tokens: Record<string, Principal>, options: { stdioToken?: string; metadata?: Record<string, unknown> } = {}): Authenticator & { stdioToken: string | undefined; httpCalls: number; stdioCalls: number } {
  const lookup = (token: string | undefined): AuthResult => {
    const principal = token === undefined ? undefined : tokens[token];
    if (principal) return { ok: true, principal };
    return {
      ok: false, status: 401, reason: token === undefined ? 'token_missing' : 'token_invalid',
      description: 'bearer token not accepted', wwwAuthenticate: 'Bearer resource_metadata="http://test/.well-known/oauth-protected-resource"',
    };
  };
  const auth = {
    stdioToken: options.stdioToken,
    httpCalls: 0,
    stdioCalls: 0,
    authenticateHttp: async (authorization: string | undefined) => {
      auth.httpCalls++;
      const m = /^Bearer (.+)$/.exec(authorization ?? '');
      return lookup(m?.[1]);
    },
    authenticateStdio: async () => {
      auth.stdioCalls++;
      return lookup(auth.stdioToken);
    },
    protectedResourceMetadata: options.metadata ? () => options.metadata! : undefined,
  };
  return auth;
}
