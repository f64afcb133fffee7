import { passes, virtualCall, type AdmittedCall } from './call-request.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';
import { useTemplateIfPinned, type TemplateUse } from './template-pin-check.js';
import { handleJudged } from './tool-call-handler.js';
import type { UpstreamConnection } from './upstream-connection.js';

/** The guard's policy hash now; undefined when it has none or cannot say (a restore then re-judges an approve as after a reload). */
function policyHashNow(session: ProxySession): string | undefined {
  try {
    return session.opts.guard.policyHash?.();
  } catch {
    return undefined;
  }
}

/**
 * A `resources/read` of URI U routed to `upstream` is judged exactly as a call of the virtual tool
 * `resources/read` on that upstream with arguments `{ uri: U }`: the same guard (policy rules,
 * sensitivity, rate / volume / novelty signals, throttle, approvals) and the same write-ahead
 * `call.*` audit records. A `resources/subscribe` (`use.how` `subscribe`) likewise, as the virtual
 * tool `resources/subscribe`: a subscription is remembered (to be restored after an upstream
 * restart) only once a forward verdict sends it. Judged once the template pins passed the
 * request (template-pin-check.ts; checked while it is in flight, so a cancel during their listing
 * stops it). On a forward verdict the agent's own request goes on with `params` as routed,
 * answered within `timeouts.requestMs`; a refusal is a JSON-RPC error (judged-refusal.ts).
 * Never rejects.
 */
export function handleResourceRead(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, params: Record<string, unknown> | undefined, use: TemplateUse & { how: 'read' | 'subscribe' }): Promise<void> {
  return handleJudged(session, request, () => admitRead(session, request, upstream, params, use));
}

function admitRead(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, params: Record<string, unknown> | undefined, use: TemplateUse & { how: 'read' | 'subscribe' }): AdmittedCall | undefined {
  const receivedAt = Date.now();
  const uri = params?.uri;
  if (typeof uri !== 'string') {
    // Nothing the policy could judge the request by: never forwarded.
    session.toAgent(errorResponse(request.id, RPC.invalidParams, `${request.method} needs a string uri`));
    return undefined;
  }
  // A fresh object with one own key: the policy sees exactly the URI the upstream is asked for.
  const args = { uri };
  const pinsPass = (): Promise<boolean> => passes((pass) => useTemplateIfPinned(session, request, upstream, use, pass));
  if (use.how === 'read') return virtualCall(session, 'resources/read', upstream, args, params, receivedAt, { pinsPass });
  // Remembered before it is sent, as a subscription always was: one the upstream holds is restored
  // after its restart. With the policy it was judged under (in force now: a call that waited is
  // refused if a reload came meanwhile), which a re-check before a restore looks at.
  const onForward = (): void => void session.subscriptions.set(uri, { upstream: upstream.name, judgedUnder: policyHashNow(session) });
  return virtualCall(session, 'resources/subscribe', upstream, args, params, receivedAt, { pinsPass, onForward });
}
