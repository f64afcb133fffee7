import { actorIds, sameActorChain, type Principal } from '../core/principal.js';

/**
 * What a request must present to use an HTTP session: the principal that opened it (issuer, user,
 * acting agent), the whole delegation chain behind that agent (issuers included), and the OAuth
 * client the token was issued to (`client_id` / `azp`).
 *
 * The principal alone is what rate windows and budgets count by, but it is too loose to own a
 * session: without `act` it is the user alone, so any other app holding one of alice's tokens
 * could drive the session of the app that opened it once it learnt the session id; with `act`, the
 * same agent reached through another chain (not via `planner`) could drive the session its chain
 * opened. A refreshed token of the same client and chain still fits, as MCP clients refresh tokens
 * mid-session.
 *
 * Checked on every request, so compared field by field (sameActorChain, as remembered grants are)
 * rather than by building a key each time.
 */
export function sameSessionBinding(a: Principal, b: Principal): boolean {
  return a.issuer === b.issuer && a.user === b.user && a.clientId === b.clientId && sameActorChain(actorIds(a), actorIds(b));
}

/**
 * The binding as a key, for counting a client's sessions (session caps, eviction): built when a
 * session opens and once per `initialize`, never per request. Two principals have the same key
 * exactly when sameSessionBinding holds (the whole chain, an actor's missing issuer apart from
 * an empty one, as actorIds gives them).
 */
export function sessionBindingKey(p: Principal): string {
  return JSON.stringify([p.issuer, p.user, actorIds(p).map((a) => [a.sub, a.iss]), p.clientId ?? null]);
}
