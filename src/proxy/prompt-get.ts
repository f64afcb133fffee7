import { passes, virtualCall, type AdmittedCall } from './call-request.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import { usePromptIfPinned, type PromptAsked } from './prompt-pin-check.js';
import type { ProxySession } from './proxy-session.js';
import { handleJudged } from './tool-call-handler.js';
import type { UpstreamConnection } from './upstream-connection.js';

/**
 * A `prompts/get` of prompt P (the upstream's own name) routed to `upstream` is judged exactly as
 * a call of the virtual tool `prompts/get` on that upstream with arguments
 * `{ name: P, arguments: A }` (A as the agent sent them; left out when it sent none): the same
 * guard and `call.*` audit records as a tool call. Judged once the prompt pins passed the get
 * (prompt-pin-check.ts; checked while the get is in flight, so a cancel during their listing
 * stops it). On a forward verdict the agent's request goes on with `params` as routed,
 * answered within `timeouts.requestMs`; a refusal is a JSON-RPC error (judged-refusal.ts).
 * Never rejects.
 */
export function handlePromptGet(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, params: Record<string, unknown> | undefined, prompt: PromptAsked): Promise<void> {
  return handleJudged(session, request, () => admitGet(session, request, upstream, params, prompt));
}

function admitGet(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, params: Record<string, unknown> | undefined, prompt: PromptAsked): AdmittedCall | undefined {
  const receivedAt = Date.now();
  const name = params?.name;
  const promptArgs = params?.arguments;
  if (typeof name !== 'string' || (promptArgs !== undefined && (typeof promptArgs !== 'object' || promptArgs === null || Array.isArray(promptArgs)))) {
    // Nothing the policy could judge the get by: never forwarded.
    session.toAgent(errorResponse(request.id, RPC.invalidParams, 'prompts/get needs a string name and object arguments'));
    return undefined;
  }
  // A fresh object: the policy sees the prompt the upstream is asked for, under its own name.
  const args: Record<string, unknown> = promptArgs === undefined ? { name } : { name, arguments: promptArgs };
  const pinsPass = (): Promise<boolean> => passes((pass) => usePromptIfPinned(session, request, upstream, prompt, pass));
  return virtualCall(session, 'prompts/get', upstream, args, params, receivedAt, { pinsPass });
}
