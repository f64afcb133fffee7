import { virtualCall, type AdmittedCall } from './call-request.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';
import { handleJudged } from './tool-call-handler.js';
import type { UpstreamConnection } from './upstream-connection.js';

/**
 * A `completion/complete` routed to `upstream` is judged exactly as a call of the virtual tool
 * `completion/complete` on that upstream with arguments `{ ref, argument, context? }` as routed
 * (`ref` names the prompt or resource template as the upstream knows it; `context` is left out
 * when the agent sent none): the same guard and `call.*` audit records as a tool call. A
 * completion lists what exists (customer names, file paths, payees) one prefix at a time, so it
 * is data leaving the upstream like a read. Judged once the pins of the prompt or template it
 * completes passed it (`pinsPass`; none for a ref of another type). On a forward verdict the
 * agent's request goes on with `params` as routed, answered within `timeouts.requestMs`; a
 * refusal is a JSON-RPC error (judged-refusal.ts). Never rejects.
 */
export function handleCompletion(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, params: Record<string, unknown> | undefined, pinsPass: (() => Promise<boolean>) | undefined): Promise<void> {
  return handleJudged(session, request, () => admitCompletion(session, request, upstream, params, pinsPass));
}

function admitCompletion(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, params: Record<string, unknown> | undefined, pinsPass: (() => Promise<boolean>) | undefined): AdmittedCall | undefined {
  const receivedAt = Date.now();
  const ref = params?.ref;
  const argument = params?.argument;
  const context = params?.context;
  if (!isObject(ref) || !isObject(argument) || (context !== undefined && !isObject(context))) {
    // Nothing the policy could judge the completion by: never forwarded.
    session.toAgent(errorResponse(request.id, RPC.invalidParams, 'completion/complete needs an object ref and argument (and an object context, if any)'));
    return undefined;
  }
  // A fresh object: the policy sees what the upstream is asked to complete, under its own names.
  const args: Record<string, unknown> = context === undefined ? { ref, argument } : { ref, argument, context };
  return virtualCall(session, 'completion/complete', upstream, args, params, receivedAt, pinsPass ? { pinsPass } : {});
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
