import type { Principal } from '../core/principal.js';
import type { ToolCallRequest, ToolDefinition } from '../core/tool-call.js';
import type { LazyAbort } from './lazy-abort.js';
import type { RpcRequest } from './json-rpc.js';
import { progressTokenOf } from './progress-routes.js';
import type { ProxySession } from './proxy-session.js';
import type { UpstreamConnection } from './upstream-connection.js';

/**
 * The ToolCallRequest handed to the guard. A class, not an object literal: a literal with a
 * getter (`signal`, created lazily) is built through a slow runtime path on every call, and
 * this was the largest single item of the proxy's own per-call CPU. The controller is a private
 * field, so the guard sees exactly the fields of ToolCallRequest.
 */
export class CallRequest implements ToolCallRequest {
  readonly callId: string;
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
  readonly #controller: LazyAbort;

  constructor(session: ProxySession, request: RpcRequest, call: AdmittedCall, callId: string, principal: Principal, controller: LazyAbort) {
    const token = progressTokenOf(request.params);
    const opts = session.opts;
    this.callId = callId;
    this.sessionId = session.id;
    this.principal = principal;
    this.upstream = call.upstream.name;
    this.tool = call.tool;
    this.exposedName = call.exposedName;
    this.arguments = call.args;
    this.toolDefinition = session.toolDefinitions.get(call.upstream.name)?.get(call.tool);
    this.transport = opts.channel.transport;
    this.remoteAddress = opts.remoteAddress;
    this.userAgent = opts.userAgent;
    this.clientInfo = session.clientInfo;
    this.progressToken = token;
    this.receivedAt = call.receivedAt;
    this.sendProgress = token === undefined ? undefined : (progress, total, message) => sendProgress(session, request, token, progress, total, message);
    this.#controller = controller;
  }

  /** Aborted when the agent cancels the call or its session ends (created on first read). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
}

/** A tools/call admitted for judging: its tool resolved to a listed tool of one upstream. */
export interface AdmittedCall {
  readonly upstream: UpstreamConnection;
  readonly tool: string;
  readonly exposedName: string;
  readonly args: Record<string, unknown>;
  readonly receivedAt: number;
}

function sendProgress(session: ProxySession, request: RpcRequest, token: string | number, progress: number, total?: number, message?: string): void {
  const params: Record<string, unknown> = { progressToken: token, progress };
  if (total !== undefined) params.total = total;
  if (message !== undefined) params.message = message;
  session.toAgent({ jsonrpc: '2.0', method: 'notifications/progress', params }, request.id);
}
