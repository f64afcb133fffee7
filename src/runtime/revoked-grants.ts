import type { Grant } from '../approval/approval-types.js';
import type { Principal } from '../core/principal.js';
import type { SessionInfo } from '../core/tool-call.js';
import type { SubjectEffect } from '../events/registry-entry.js';

/** The principal a grant was made for, as far as the grant knows it (no token: issued before any revocation). */
function holderOf(grant: Grant): Principal {
  return {
    issuer: grant.issuer, user: grant.user, actor: grant.actor, actorIssuer: grant.actorIssuer,
    priorActors: grant.priorActors, ...(grant.priorActorIssuers ? { priorActorIssuers: grant.priorActorIssuers } : {}),
    clientId: grant.clientId, scopes: [], sessionId: undefined, authTime: undefined, acr: undefined, amr: [],
    issuedAt: undefined, expiresAt: undefined, tokenId: undefined, claims: {}, anonymous: false,
  };
}

/**
 * Which remembered grants a revocation takes away. Without this, a user or agent revoked for a
 * stolen token got a new token and its old grants let it skip the human again.
 * - the revocation matches the principal the grant was made for (user, or an agent in its chain);
 * - a grant for any agent of the user (`scope: user`) also goes with a revoked agent: it covers it;
 * - a revocation by what a grant does not record (email, device, IdP or warden session) takes the
 *   grants of the users whose open sessions it hit: revoking more than needed, never less.
 */
export function grantsOfRevoked(effect: SubjectEffect, openSessions: readonly SessionInfo[]): (grant: Grant) => boolean {
  const hit = new Set(effect.sessionIds);
  const usersHit = new Set(openSessions.filter((s) => hit.has(s.sessionId)).map((s) => JSON.stringify([s.principal.issuer, s.principal.user])));
  return (grant) =>
    effect.affects(holderOf(grant), undefined) ||
    (grant.scope === 'user' && effect.match.agent !== undefined) ||
    usersHit.has(JSON.stringify([grant.issuer, grant.user]));
}
