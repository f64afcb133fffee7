import type { Principal } from '../core/principal.js';

/** The principal as written to the audit trail: who, on whose behalf, never the token. */
export function principalSummary(p: Principal, nowMs: number): Record<string, unknown> {
  return {
    iss: p.issuer,
    user: p.user,
    actor: p.actor ?? null,
    priorActors: p.priorActors,
    clientId: p.clientId ?? null,
    scopes: p.scopes,
    sid: p.sessionId ?? null,
    tokenAgeS: p.issuedAt !== undefined ? Math.max(0, Math.floor(nowMs / 1000) - p.issuedAt) : null,
    anonymous: p.anonymous,
  };
}
