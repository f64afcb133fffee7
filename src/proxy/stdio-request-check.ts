import type { Principal } from '../core/principal.js';
import { isThenable, type MaybePromise } from '../core/maybe-promise.js';
import { errorResponse, RPC, type RpcErrorObject, type RpcNotification, type RpcRequest, type RpcResponse } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';

const CHECK_FAILED = { ok: false as const, reason: 'internal' };

/** What routing needs of an AuthResult. */
type Checked = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

/** How a refused message is answered (to the agent for its request, to the upstream for an answer). */
type Refuse = (error: RpcErrorObject) => void;

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
  // Held behind a check that has to wait, the request is not in flight yet: an agent cancel for it
  // found nothing and was dropped, and the request went upstream afterwards all the same. While it
  // waits it is listed instead; a cancel marks it (ProxySession.agentNotification), and then it is
  // neither routed nor answered (no answer is due after a cancel).
  const waiting = { cancelled: false };
  const wanted = (): boolean => {
    if (session.stdioWaiting.get(request.id) === waiting) session.stdioWaiting.delete(request.id);
    return !waiting.cancelled;
  };
  const queued = afterStdioCheck(
    session,
    request.method,
    () => {
      if (wanted()) route();
    },
    (error) => {
      if (wanted()) session.toAgent(errorResponse(request.id, error.code, error.message, error.data));
    },
  );
  if (queued) session.stdioWaiting.set(request.id, waiting);
}

/**
 * The agent's answer to a server request warden relayed (elicitation, sampling, roots) is checked
 * the same way: it steers a tool running upstream (an elicitation's "accept", a sampling result),
 * so an agent whose token expired or was revoked must not give it, as over HTTP its POST gets 401.
 * A refused answer never reaches the upstream; the upstream gets `-32603` with the reason instead,
 * so it does not wait for an answer that will not come.
 */
export function relayAfterStdioCheck(session: ProxySession, response: RpcResponse, relay: () => void, refuse: Refuse): void {
  void afterStdioCheck(session, 'answer to a relayed request', relay, (error) =>
    refuse({ code: RPC.internalError, message: `the client's answer was refused: ${error.message}`, data: error.data }),
  );
}

/**
 * And so are the notifications warden passes on to the upstreams (`roots/list_changed`, progress
 * on a relayed request, any other `notifications/...`): over HTTP their POST needs a token too.
 * A refused one is dropped (a notification gets no answer) and logged. Cancellations are not
 * checked (ProxySession passes them first): stopping work is never refused.
 */
export function notifyAfterStdioCheck(session: ProxySession, notification: RpcNotification, pass: () => void): void {
  void afterStdioCheck(session, notification.method, pass, (error) =>
    session.opts.logger.warn({ method: notification.method, reason: (error.data as { reason?: string } | undefined)?.reason }, 'agent notification dropped: the caller is not authenticated'),
  );
}

/**
 * What warden re-sends upstream on the session's behalf (its log level and subscriptions, after an
 * upstream restart) is checked the same way: a revocation does not close a stdio session, and a
 * re-sent subscription of a revoked (or expired) caller would be a request nobody may make for it
 * now. A refused one is not sent, and logged; `refused` learns why (a revoked caller's
 * subscriptions end).
 */
export function restoreAfterStdioCheck(session: ProxySession, upstream: string, restore: () => void, refused?: (reason: string | undefined) => void): void {
  void afterStdioCheck(session, 'restore after upstream restart', restore, (error) => {
    const reason = (error.data as { reason?: string } | undefined)?.reason;
    session.opts.logger.warn({ upstream, reason }, 'subscriptions and log level not restored: the caller is not authenticated');
    refused?.(reason);
  });
}

/** Checks the caller, then passes or refuses; true when that waits for a check still running. */
function afterStdioCheck(session: ProxySession, what: string, pass: () => void, refuse: Refuse): boolean {
  let answer: MaybePromise<Checked>;
  try {
    answer = session.opts.authenticator.authenticateStdio();
  } catch {
    answer = CHECK_FAILED;
  }
  if (!isThenable(answer) && session.stdioCheckQueue === undefined) {
    settle(session, what, answer, pass, refuse);
    return false;
  }
  const queued: Promise<void> = (session.stdioCheckQueue ?? Promise.resolve())
    .then(() => answer)
    .then(
      (auth) => settle(session, what, auth, pass, refuse),
      () => settle(session, what, CHECK_FAILED, pass, refuse),
    )
    .finally(() => {
      if (session.stdioCheckQueue === queued) session.stdioCheckQueue = undefined;
    });
  session.stdioCheckQueue = queued;
  return true;
}

/** Passes an authenticated message on, refuses the rest. Never throws (it runs in a promise chain). */
function settle(session: ProxySession, what: string, auth: Checked, pass: () => void, refuse: Refuse): void {
  try {
    if (!auth.ok) {
      refuse({ code: RPC.invalidRequest, message: `authentication failed: ${auth.reason}`, data: { reason: auth.reason } });
      return;
    }
    session.principal = auth.principal;
    // A revoked token still verifies: the guard knows the revocations (a throw refuses, below).
    const refused = session.opts.guard.requestStanding?.(auth.principal, session.id);
    if (refused !== undefined) {
      refuse({ code: RPC.invalidRequest, message: `authentication failed: ${refused}`, data: { reason: refused } });
      return;
    }
    pass();
  } catch (err) {
    // Refused, not passed on: a fault in the check (a revocation lookup, the audit sink) fails closed.
    session.opts.logger.error({ what, err: String(err) }, 'request check failed');
    refuse({ code: RPC.internalError, message: 'internal error' });
  }
}
