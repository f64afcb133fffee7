import type { Principal } from '../core/principal.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { JudgedAction, ToolCallRequest, ToolDefinition } from '../core/tool-call.js';
import { virtualToolDefinition, type VirtualToolName } from '../core/virtual-tools.js';
import type { LazyAbort } from './lazy-abort.js';
import type { RpcRequest } from './json-rpc.js';
import { progressTokenOf } from './progress-routes.js';
import type { ProxySession } from './proxy-session.js';
import type { SubscribeAnswer } from './subscribe-attempt.js';
import type { UpstreamConnection } from './upstream-connection.js';
import type { DefinitionList } from './definition-changes.js';

/** What a call is judged against: the upstream session, and how often the list of its definitions had been announced changed. */
export interface JudgedAgainst {
  readonly generation: number;
  readonly definitions: DefinitionList | undefined;
  readonly changesSeen: number;
  /** DefinitionChanges.relisted for that list, read once the request's definition was looked up. */
  readonly relistedSeen: number;
}

/**
 * The ToolCallRequest handed to the guard. A class, not an object literal: a literal with a
 * getter (`signal`, created lazily) is built through a slow runtime path on every call, and
 * this was the largest single item of the proxy's own per-call CPU. The controller is a private
 * field, so the guard sees exactly the fields of ToolCallRequest.
 */
export class CallRequest implements ToolCallRequest {
  readonly callId: string;
  readonly action: JudgedAction;
  readonly sessionId: string;
  readonly principal: Principal;
  readonly upstream: string;
  readonly tool: string;
  readonly exposedName: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly toolDefinition: ToolDefinition | undefined;
  readonly transport: 'stdio' | 'http';
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly clientInfo: { readonly name: string; readonly version: string } | undefined;
  readonly progressToken: string | number | undefined;
  readonly receivedAt: number;
  readonly sendProgress: ((progress: number, total?: number, message?: string) => void) | undefined;
  /** Stdio only (see ToolCallRequest.currentPrincipal); undefined over HTTP. */
  readonly currentPrincipal: (() => MaybePromise<Principal | undefined>) | undefined;
  readonly #controller: LazyAbort;
  readonly #upstream: UpstreamConnection;
  readonly #generation: number;
  readonly #definitions: DefinitionList | undefined;
  readonly #changesSeen: number;
  readonly #relistedSeen: number;

  constructor(session: ProxySession, request: RpcRequest, call: AdmittedCall, callId: string, principal: Principal, controller: LazyAbort, against: JudgedAgainst) {
    const token = progressTokenOf(request.params);
    const opts = session.opts;
    this.callId = callId;
    this.action = call.action;
    this.sessionId = session.id;
    this.principal = principal;
    this.upstream = call.upstream.name;
    this.tool = call.tool;
    this.exposedName = call.exposedName;
    this.arguments = call.args;
    // A virtual tool's definition is warden's own: nothing an upstream lists applies to it.
    this.toolDefinition = call.action === 'tools/call' ? session.toolDefinitions.get(call.upstream.name)?.get(call.tool) : virtualToolDefinition(call.action);
    this.transport = opts.channel.transport;
    this.remoteAddress = opts.remoteAddress;
    this.userAgent = opts.userAgent;
    this.clientInfo = session.clientInfo;
    this.progressToken = token;
    this.receivedAt = call.receivedAt;
    this.sendProgress = token === undefined ? undefined : (progress, total, message) => sendProgress(session, request, token, progress, total, message);
    // The session's own (one per session, not per call); read only by a call that waited past its token's exp.
    this.currentPrincipal = session.currentStdioPrincipal;
    this.#controller = controller;
    this.#upstream = call.upstream;
    this.#generation = against.generation;
    this.#definitions = against.definitions;
    this.#changesSeen = against.changesSeen;
    this.#relistedSeen = against.relistedSeen;
  }

  /** See ToolCallRequest.definitionsChanged (definition-changes.ts). A method: no closure per call. */
  definitionsChanged(): boolean {
    if (this.#definitions === undefined) return false;
    const changes = this.#upstream.definitionChanges;
    return changes[this.#definitions] !== this.#changesSeen || changes.relisted[this.#definitions] !== this.#relistedSeen;
  }

  /** See ToolCallRequest.upstreamRestarted: the upstream session is no longer the one the call was looked up in. */
  upstreamRestarted(): boolean {
    return this.#upstream.generation !== this.#generation;
  }

  /** Aborted when the agent cancels the call or its session ends (created on first read). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
}

/**
 * A request admitted for judging: a tools/call whose tool resolved to a tool of one upstream, or
 * a request judged as a call of a virtual tool (a resources/read: `tool` is `resources/read`,
 * `args` is `{ uri }`; a prompts/get: `prompts/get`, `{ name, arguments }`; a completion/complete:
 * `completion/complete`, `{ ref, argument, context? }`; a resources/subscribe:
 * `resources/subscribe`, `{ uri }`), routed to one upstream.
 */
export interface AdmittedCall {
  /** What is judged, and the method a forward verdict sends the upstream (the agent's own). */
  readonly action: JudgedAction;
  readonly upstream: UpstreamConnection;
  readonly tool: string;
  readonly exposedName: string;
  readonly args: Record<string, unknown>;
  readonly receivedAt: number;
  /** The params a forward verdict sends, as routed (the upstream's own tool name). */
  readonly params: Record<string, unknown> | undefined;
  /** How long the upstream has to answer once forwarded (timeouts.callMs for tools, requestMs for other requests). */
  readonly timeoutMs: number;
  /**
   * A virtual tool's pin check (the prompt or resource template the request uses): true when the
   * pins pass it, false when it was refused and answered there. Run by handleJudged once the
   * request is in flight, so an agent cancel or the session's end during the listing it may need
   * reaches the request (as for a tool's lookup).
   */
  readonly pinsPass?: () => Promise<boolean>;
  /** Runs when a forward verdict sends the request, just before it is sent. */
  readonly onForward?: () => void;
  /**
   * Runs once the forwarded request is over: the upstream answered success (`ok`) or an error
   * (`refused`), or warden stopped waiting for it (`unknown`: timed out, cancelled by the agent).
   * A subscription is remembered only on `ok` (subscribe-attempt.ts).
   */
  readonly onAnswer?: (answer: SubscribeAnswer) => void;
}

/**
 * A request judged as a call of the virtual tool named after its method: `tool` and `exposedName`
 * are that name (a virtual tool is never namespaced), answered within `timeouts.requestMs`.
 */
export function virtualCall(
  session: ProxySession,
  action: VirtualToolName,
  upstream: UpstreamConnection,
  args: Record<string, unknown>,
  params: Record<string, unknown> | undefined,
  receivedAt: number,
  hooks: Pick<AdmittedCall, 'pinsPass' | 'onForward' | 'onAnswer'> = {},
): AdmittedCall {
  return { action, upstream, tool: action, exposedName: action, args, receivedAt, params, timeoutMs: session.opts.timeouts.requestMs, ...hooks };
}

/** A pin check that calls `pass` when the request may go on, as a pinsPass answer. */
export async function passes(check: (pass: () => void) => Promise<void>): Promise<boolean> {
  let passed = false;
  await check(() => {
    passed = true;
  });
  return passed;
}

function sendProgress(session: ProxySession, request: RpcRequest, token: string | number, progress: number, total?: number, message?: string): void {
  const params: Record<string, unknown> = { progressToken: token, progress };
  if (total !== undefined) params.total = total;
  if (message !== undefined) params.message = message;
  session.toAgent({ jsonrpc: '2.0', method: 'notifications/progress', params }, request.id);
}
