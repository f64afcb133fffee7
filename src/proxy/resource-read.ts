import { passes, virtualCall, type AdmittedCall } from './call-request.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';
import { useTemplateIfPinned, type TemplateUse } from './template-pin-check.js';
import { SubscribeAttempt } from './subscribe-attempt.js';
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
 * restart) only once a forward verdict sent it and the upstream answered success. Judged once the template pins passed the
 * request (template-pin-check.ts; checked while it is in flight, so a cancel during their listing
 * stops it). On a forward verdict the agent's own request goes on with `params` as routed,
 * answered within `timeouts.requestMs`; a refusal is a JSON-RPC error (judged-refusal.ts).
 * Never rejects.
 */
export async function handleResourceRead(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, params: Record<string, unknown> | undefined, use: TemplateUse & { how: 'read' | 'subscribe' }): Promise<void> {
  if (use.how === 'read') return handleJudged(session, request, () => admitRead(session, request, upstream, params, use));
  let attempt: SubscribeAttempt | undefined;
  await handleJudged(session, request, () => {
    const admitted = admitRead(session, request, upstream, params, use);
    if (admitted !== undefined) attempt = new SubscribeAttempt(session, upstream.name, admitted.args.uri as string);
    return admitted && { ...admitted, onForward: () => attempt?.forwarded(policyHashNow(session)), onAnswer: (a) => attempt?.answered(a) };
  });
  // Not forwarded (refused, answered by warden, cancelled while judged): it is over.
  attempt?.judged();
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
  // A subscription is remembered once the upstream answered success (subscribe-attempt.ts), with
  // the policy it was judged under (in force when it was forwarded: a call that waited is refused
  // if a reload came meanwhile), which a re-check before a restore looks at.
  return virtualCall(session, use.how === 'read' ? 'resources/read' : 'resources/subscribe', upstream, args, params, receivedAt, { pinsPass });
}
