import type { Principal } from '../core/principal.js';
import { isThenable, type MaybePromise } from '../core/maybe-promise.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';

const CHECK_FAILED = { ok: false as const, reason: 'internal' };

/** What routing needs of an AuthResult. */
type Checked = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

/**
 * Over stdio one process token stands behind every request, so it is re-checked for every
 * request, as each HTTP request's bearer token is: tool calls in tool-call-handler.ts, every
 * other request (lists, resources, prompts, completions, unknown methods) here. Checked only on
 * tool calls, an expired, revoked or replaced token still listed tools, read resources and got
 * prompts. A refused request is answered `-32600` with the reason and forwarded nowhere (the
 * authenticator audits `identity.failed`). A check that has to wait (the first after the token
 * file changed) holds the requests behind it, so they still reach the upstream in the order sent.
 */
export function routeAfterStdioCheck(session: ProxySession, request: RpcRequest, route: () => void): void {
  let answer: MaybePromise<Checked>;
  try {
    answer = session.opts.authenticator.authenticateStdio();
  } catch {
    answer = CHECK_FAILED;
  }
  if (!isThenable(answer) && session.stdioCheckQueue === undefined) {
    settle(session, request, answer, route);
    return;
  }
  const queued: Promise<void> = (session.stdioCheckQueue ?? Promise.resolve())
    .then(() => answer)
    .then(
      (auth) => settle(session, request, auth, route),
      () => settle(session, request, CHECK_FAILED, route),
    )
    .finally(() => {
      if (session.stdioCheckQueue === queued) session.stdioCheckQueue = undefined;
    });
  session.stdioCheckQueue = queued;
}

/** Routes an authenticated request, answers a refused one. Never throws (it runs in a promise chain). */
function settle(session: ProxySession, request: RpcRequest, auth: Checked, route: () => void): void {
  try {
    if (!auth.ok) {
      session.toAgent(errorResponse(request.id, RPC.invalidRequest, `authentication failed: ${auth.reason}`, { reason: auth.reason }));
      return;
    }
    session.principal = auth.principal;
    // A revoked token still verifies: the guard knows the revocations (a throw refuses, below).
    const refused = session.opts.guard.requestStanding?.(auth.principal, session.id);
    if (refused !== undefined) {
      session.toAgent(errorResponse(request.id, RPC.invalidRequest, `authentication failed: ${refused}`, { reason: refused }));
      return;
    }
    route();
  } catch (err) {
    // Refused, not forwarded: a fault in the check (a revocation lookup, the audit sink) fails closed.
    session.opts.logger.error({ method: request.method, err: String(err) }, 'request check failed');
    session.toAgent(errorResponse(request.id, RPC.internalError, 'internal error'));
  }
}
