import { actorIds, principalKey, type Principal } from '../core/principal.js';

/**
 * What a request must present to use an HTTP session: the principal that opened it (issuer, user,
 * acting agent), the whole delegation chain behind that agent (issuers included), and the OAuth
 * client the token was issued to (`client_id` / `azp`).
 *
 * The principal alone is what rate windows, budgets and session caps count by, but it is too
 * loose to own a session: without `act` it is the user alone, so any other app holding one of
 * alice's tokens could drive the session of the app that opened it once it learnt the session id;
 * with `act`, the same agent reached through another chain (not via `planner`) could drive the
 * session its chain opened. A refreshed token of the same client and chain still fits, as MCP
 * clients refresh tokens mid-session.
 */
export function sessionBindingKey(p: Principal): string {
  return JSON.stringify([principalKey(p), actorIds(p).slice(1), p.clientId ?? null]);
}
