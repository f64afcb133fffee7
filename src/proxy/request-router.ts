import { REFUSED_CODE } from '../core/refusal-error.js';
import { upstreamErrorFields } from '../core/upstream-error.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import { listAcrossUpstreams, LIST_KINDS } from './list-aggregator.js';
import { imitatedMethod } from './method-lookalike.js';
import { usePromptIfPinned, type PromptAsked } from './prompt-pin-check.js';
import type { ProxySession } from './proxy-session.js';
import { passes } from './call-request.js';
import { handleCompletion } from './completion-complete.js';
import { handlePromptGet } from './prompt-get.js';
import { handleResourceRead } from './resource-read.js';
import { routeAfterStdioCheck } from './stdio-request-check.js';
import { endSubscription, subscriptionKey } from './standing-subscriptions.js';
import { useTemplateIfPinned, type TemplateUse } from './template-pin-check.js';
import { handleToolCall } from './tool-call-handler.js';
import { isTaskMethod, TASK_METHOD_REFUSAL } from './unsupported-tasks.js';
import type { UpstreamConnection } from './upstream-connection.js';

/**
 * Routes one agent request. Only methods that need namespacing, fan-out or the guard are
 * inspected; everything else (including unknown methods) is forwarded unchanged.
 */
export function routeRequest(session: ProxySession, request: RpcRequest): void {
  const method = request.method;
  if (method === 'initialize') {
    guarded(session, request, session.initialize(request));
    return;
  }
  if (method === 'ping') {
    // Warden answers liveness itself: the agent asks whether its MCP server (warden) is alive.
    session.toAgent({ jsonrpc: '2.0', id: request.id, result: {} });
    return;
  }
  if (session.info === undefined) {
    // Not opened (before initialize, or an initialize that failed with some upstreams already
    // running): the session is not audited as opened nor listed to operators, so it serves nothing.
    const why = session.startFailure === undefined ? '' : ` (${session.startFailure})`;
    session.toAgent(errorResponse(request.id, RPC.invalidRequest, `Invalid Request: session not initialized${why}`));
    return;
  }
  if (method === 'tools/call') {
    // Never rejects (it answers -32603 itself): no catch handler, a promise less per call.
    void handleToolCall(session, request);
    return;
  }
  // HTTP authenticated this request's own token before it got here; stdio's process token is
  // checked now (tool calls check it in handleToolCall).
  if (session.opts.channel.transport === 'http') routeOpened(session, request);
  else routeAfterStdioCheck(session, request, () => routeOpened(session, request));
}

/** Routes a request of an opened session, its caller authenticated: lists, resources, prompts, the rest. */
function routeOpened(session: ProxySession, request: RpcRequest): void {
  const method = request.method;
  // Own keys only: a method named `constructor` or `__proto__` is not a list method, and reading
  // it off the object literal would hand the aggregator an Object.prototype member.
  const kind = Object.hasOwn(LIST_KINDS, method) ? LIST_KINDS[method] : undefined;
  if (kind) {
    guarded(session, request, listAcrossUpstreams(session, request, kind));
    return;
  }
  if (isTaskMethod(method)) {
    // Not offered (unsupported-tasks.ts): never forwarded, the upstream may hold other clients' tasks.
    session.toAgent(errorResponse(request.id, RPC.methodNotFound, TASK_METHOD_REFUSAL));
    return;
  }
  const imitated = imitatedMethod(method);
  if (imitated !== undefined) {
    session.opts.logger.warn({ method, imitated }, 'request method imitates one warden inspects: refused');
    session.toAgent(errorResponse(request.id, RPC.methodNotFound, `Method not found: ${JSON.stringify(method)} is not ${imitated}`));
    return;
  }
  const target = targetFor(session, request);
  if (target === undefined) {
    session.toAgent(errorResponse(request.id, RPC.invalidParams, `no upstream serves this ${method} request`));
    return;
  }
  if (target !== 'broadcast' && subscriptionRefused(session, request, target.upstream)) return;
  if (target === 'broadcast') {
    forwardTo(session, request, target);
    return;
  }
  // Judged by the guard as a call of the virtual tool named after the method once the pins of
  // the prompt or resource template it uses pass it (checked while the request is in flight):
  // resources/read, resources/subscribe (resource-read.ts), prompts/get (prompt-get.ts) and
  // completion/complete (completion-complete.ts). They never reject, and audit themselves (call.*).
  // Pins: a prompt or template whose definition nobody accepted is refused, as a withheld tool's call is.
  const prompt = promptAsked(request, target.params);
  if (prompt !== undefined) {
    if (request.method === 'prompts/get') void handlePromptGet(session, request, target.upstream, target.params, prompt);
    else void handleCompletion(session, request, target.upstream, target.params, () => passes((pass) => usePromptIfPinned(session, request, target.upstream, prompt, pass)));
    return;
  }
  const template = templateUsed(request, target.params);
  if (template !== undefined) {
    if (template.how === 'complete') void handleCompletion(session, request, target.upstream, target.params, () => passes((pass) => useTemplateIfPinned(session, request, target.upstream, template, pass)));
    else void handleResourceRead(session, request, target.upstream, target.params, { how: template.how, uri: template.uri });
    return;
  }
  // A completion of a ref of another type uses no prompt or template: judged all the same.
  if (request.method === 'completion/complete') {
    void handleCompletion(session, request, target.upstream, target.params, undefined);
    return;
  }
  forwardTo(session, request, target);
}

/**
 * The prompt a request uses: prompts/get fetches it, completion/complete of a `ref/prompt`
 * completes one of its arguments (the upstream answers with values for that prompt, so its pins
 * apply as to a get). `routed` are the params as forwarded (the upstream's own name);
 * undefined for requests that use no prompt.
 */
function promptAsked(request: RpcRequest, routed: Record<string, unknown> | undefined): PromptAsked | undefined {
  if (request.method === 'prompts/get') return { name: routed?.name, asked: request.params?.name };
  if (request.method !== 'completion/complete') return undefined;
  const ref = refOf(routed);
  if (ref?.type !== 'ref/prompt') return undefined;
  return { name: ref.name, asked: refOf(request.params)?.name };
}

/**
 * How a request uses the upstream's resource templates: resources/read or resources/subscribe of
 * a URI they may claim, completion/complete of a `ref/resource` (a template's variable).
 * Undefined for other requests: resources/unsubscribe is never refused (refusing it would leave
 * a subscription running upstream, and it returns nothing).
 */
function templateUsed(request: RpcRequest, routed: Record<string, unknown> | undefined): TemplateUse | undefined {
  if (request.method === 'resources/read') return { how: 'read', uri: routed?.uri };
  if (request.method === 'resources/subscribe') return { how: 'subscribe', uri: routed?.uri };
  if (request.method !== 'completion/complete') return undefined;
  const ref = refOf(routed);
  return ref?.type === 'ref/resource' ? { how: 'complete', uri: ref.uri } : undefined;
}

function refOf(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const ref = params?.ref;
  return typeof ref === 'object' && ref !== null && !Array.isArray(ref) ? (ref as Record<string, unknown>) : undefined;
}

function forwardTo(session: ProxySession, request: RpcRequest, target: Exclude<Target, undefined>): void {
  if (target !== 'broadcast' && session.inFlight.has(request.id)) {
    // Stdio (HTTP refuses every duplicate id before it gets here): a request under the id of one
    // still in flight, a tool call held for a person above all, would take its in-flight entry,
    // and its answer would delete it: the agent's cancel and the session's end would then miss
    // the held call, whose approval or throttle wait would outlive the session.
    session.toAgent(errorResponse(request.id, RPC.invalidRequest, 'Invalid Request: a request with this id is still in flight'));
    return;
  }
  rememberSessionState(session, request, target);
  if (target === 'broadcast') broadcast(session, request);
  else session.forward(target.upstream, request, target.params, session.opts.timeouts.requestMs);
}

/**
 * A bug in an async handler must neither crash warden (unhandled rejection) nor leave the agent
 * waiting: it answers -32603 and nothing is forwarded by this path any more.
 */
function guarded(session: ProxySession, request: RpcRequest, work: Promise<void>): void {
  work.catch((err: unknown) => {
    session.opts.logger.error({ method: request.method, err: String(err) }, 'request handler failed');
    session.toAgent(errorResponse(request.id, RPC.internalError, 'internal error'));
  });
}

type Target = { upstream: UpstreamConnection; params: Record<string, unknown> | undefined } | 'broadcast' | undefined;

function targetFor(session: ProxySession, request: RpcRequest): Target {
  const params = request.params;
  if (!session.namespacer.multi) return { upstream: session.connections[0]!, params };
  switch (request.method) {
    case 'prompts/get':
      return byName(session, params, typeof params?.name === 'string' ? params.name : undefined, (p, name) => ({ ...p, name }));
    case 'resources/read':
    case 'resources/subscribe':
      return byUri(session, params, typeof params?.uri === 'string' ? params.uri : undefined);
    case 'resources/unsubscribe':
      return unsubscribeTarget(session, params);
    case 'completion/complete':
      return completionTarget(session, params);
    case 'logging/setLevel':
      return 'broadcast';
    default:
      // Unknown methods with several upstreams go to the first configured upstream, unchanged.
      return { upstream: session.connections[0]!, params };
  }
}

function byName(
  session: ProxySession,
  params: Record<string, unknown> | undefined,
  exposed: string | undefined,
  rewrite: (p: Record<string, unknown>, name: string) => Record<string, unknown>,
): Target {
  const resolved = exposed === undefined ? undefined : session.namespacer.resolve(exposed);
  const upstream = resolved && session.connection(resolved.upstream);
  if (!resolved || !upstream) return undefined;
  return { upstream, params: rewrite(params ?? {}, resolved.name) };
}

/**
 * Resources keep their URIs: routed to the one upstream that claims the URI, by listing it or by
 * a template whose prefix it starts with, else to the only upstream serving resources.
 * A URI two upstreams claim routes nowhere (-32602). URIs are not namespaced, so "exact listing
 * first, then longest template prefix" let an upstream take over reads inside another upstream's
 * template space by listing that URI, or a longer prefix, itself.
 */
function byUri(session: ProxySession, params: Record<string, unknown> | undefined, uri: string | undefined): Target {
  if (uri === undefined) return undefined;
  const claimants = uriClaimants(session, uri);
  let owner: string | undefined;
  if (claimants.size === 1) [owner] = claimants;
  else if (claimants.size === 0) {
    const withResources = session.connections.filter((c) => c.capabilities.resources !== undefined);
    if (withResources.length === 1) owner = withResources[0]!.name;
  }
  const upstream = owner === undefined ? undefined : session.connection(owner);
  return upstream ? { upstream, params } : undefined;
}

/** Every upstream that listed `uri` or a template prefix of it (CONTESTED counts as a claimant). */
function uriClaimants(session: ProxySession, uri: string): Set<string> {
  const claimants = new Set<string>();
  const exact = session.resourceOwners.get(uri);
  if (exact !== undefined) claimants.add(exact);
  for (const [prefix, name] of session.templateOwners) {
    if (uri.startsWith(prefix)) claimants.add(name);
  }
  return claimants;
}

/**
 * An unsubscribe goes where its subscription went, even if the URI has become contested since
 * (another upstream listed it later): refusing it would leave the subscription running there.
 * Held at several upstreams (its route moved between two subscribes), it goes to the one the URI
 * routes to now if that holds it, else to one that does; the others get warden's own
 * (rememberSessionState).
 */
function unsubscribeTarget(session: ProxySession, params: Record<string, unknown> | undefined): Target {
  const uri = typeof params?.uri === 'string' ? params.uri : undefined;
  const routed = byUri(session, params, uri);
  if (uri === undefined) return routed;
  if (routed !== undefined && routed !== 'broadcast' && session.subscriptions.has(subscriptionKey(routed.upstream.name, uri))) return routed;
  for (const sub of session.subscriptions.values()) {
    const upstream = sub.uri === uri ? session.connection(sub.upstream) : undefined;
    if (upstream) return { upstream, params };
  }
  return routed;
}

function completionTarget(session: ProxySession, params: Record<string, unknown> | undefined): Target {
  const ref = params?.ref as { type?: string; name?: string; uri?: string } | undefined;
  if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
    return byName(session, params, ref.name, (p, name) => ({ ...p, ref: { ...ref, name } }));
  }
  if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
    // A template's completion goes to the one upstream claiming its fixed part, like a read of
    // a URI: `file:///{path}` to the upstream of `file:///`, never one whose own template
    // prefix merely equals a URI in contested space.
    return byUri(session, params, ref.uri.split('{')[0] ?? ref.uri);
  }
  return undefined;
}

/** logging/setLevel with several upstreams: every upstream that logs gets it; one answer back. */
function broadcast(session: ProxySession, request: RpcRequest): void {
  const targets = session.connections.filter((c) => c.capabilities.logging !== undefined);
  if (targets.length === 0) {
    session.toAgent(errorResponse(request.id, RPC.methodNotFound, 'no upstream supports logging'));
    return;
  }
  let remaining = targets.length;
  let firstError: { code: number; message: string } | undefined;
  for (const upstream of targets) {
    upstream.request(request.method, request.params, session.opts.timeouts.requestMs, (response) => {
      if (response.error !== undefined && response.error !== null && !firstError) firstError = broadcastError(response.error);
      if (--remaining > 0) return;
      session.toAgent(firstError ? errorResponse(request.id, firstError.code, firstError.message) : { jsonrpc: '2.0', id: request.id, result: {} });
    });
  }
}

/**
 * The first upstream's error as the agent gets it for a broadcast: its code only when it is an
 * integer other than -32010, the refusal code only warden may send (forged-decision.ts); else
 * -32603. Its message only when it is a string.
 */
function broadcastError(error: unknown): { code: number; message: string } {
  const { code, message } = upstreamErrorFields(error);
  return { code: typeof code === 'number' && code !== REFUSED_CODE ? code : RPC.internalError, message };
}

/**
 * Most resource subscriptions one session may hold. Each is remembered until the agent
 * unsubscribes or warden ends it (standing-subscriptions.ts), to re-subscribe a restarted
 * upstream, so without a cap an agent subscribing to fresh URIs in a loop
 * grows memory shared by every session in the process. Honest agents watch a few resources.
 */
export const MAX_SUBSCRIPTIONS = 1_000;

/**
 * A new subscription beyond MAX_SUBSCRIPTIONS is refused and answered here. New ones are refused
 * rather than old ones evicted: a forgotten subscription would silently stop after an upstream
 * restart, while a refused one is an answer the agent sees now. Subscribes still in flight (judged,
 * or at the upstream) count as held: a subscription is held only once its upstream answered, so a
 * burst sent at once all passed a check of the held ones alone, and every one was then held.
 */
function subscriptionRefused(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection): boolean {
  if (request.method !== 'resources/subscribe') return false;
  const uri = request.params?.uri;
  if (typeof uri !== 'string') return false;
  const key = subscriptionKey(upstream.name, uri);
  if (session.subscriptions.has(key) || session.subscriptions.size < MAX_SUBSCRIPTIONS - session.subscribing.size) return false;
  // Near the bound with some in flight: count each once (a re-subscribe of one in flight takes no new slot).
  const inFlight = new Set<string>();
  for (const attempt of session.subscribing) if (!session.subscriptions.has(attempt.key)) inFlight.add(attempt.key);
  if (inFlight.has(key) || session.subscriptions.size + inFlight.size < MAX_SUBSCRIPTIONS) return false;
  session.toAgent(errorResponse(request.id, RPC.internalError, `too many resource subscriptions (limit ${MAX_SUBSCRIPTIONS})`));
  return true;
}

/**
 * Remembers what a restarted upstream must be told again (see ProxySession.onRestarted). A
 * subscription is remembered by its judged path once the upstream took it (subscribe-attempt.ts);
 * an unsubscribe forgets it, and withdraws a subscribe of the URI still at that upstream (the
 * upstream gets the unsubscribe after it, so its success must not be remembered).
 */
function rememberSessionState(session: ProxySession, request: RpcRequest, target: Exclude<Target, undefined>): void {
  const params = request.params;
  if (request.method === 'logging/setLevel') session.logLevel = params;
  else if (request.method === 'resources/unsubscribe' && typeof params?.uri === 'string' && target !== 'broadcast') {
    const uri = params.uri;
    const to = target.upstream.name;
    session.subscriptions.delete(subscriptionKey(to, uri));
    // Held at another upstream too (its route moved): ended there by warden, not left running.
    for (const sub of [...session.subscriptions.values()]) if (sub.uri === uri) endSubscription(session, sub);
    for (const attempt of session.subscribing) if (attempt.uri === uri) attempt.withdraw(attempt.upstream === to);
  }
}
