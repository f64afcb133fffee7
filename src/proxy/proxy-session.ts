import type { AuditSink } from '../audit/audit-sink.js';
import { andThen, type MaybePromise } from '../core/maybe-promise.js';
import type { AuthResult, Authenticator } from '../core/authenticator.js';
import type { Principal } from '../core/principal.js';
import type { Guard, SessionInfo, ToolDefinition } from '../core/tool-call.js';
import type { DefinitionList } from '../core/definition-lists.js';
import type { Timeouts, Upstream } from '../config/config-schema.js';
import type { Logger } from '../logging/logger.js';
import type { DownstreamChannel } from './downstream-channel.js';
import { errorResponse, isRequest, isResponse, RPC, type RpcId, type RpcMessage, type RpcNotification, type RpcRequest, type RpcResponse } from './json-rpc.js';
import { mergeInitializeResults } from './merge-initialize.js';
import { imitatedMethod, imitatedNotification } from './method-lookalike.js';
import { withoutForgedDecision } from './forged-decision.js';
import { Namespacer } from './namespacing.js';
import { OwnerMap } from './owner-map.js';
import { ServerRequestRelay } from './server-request-relay.js';
import { UpstreamConnection, type UpstreamEvents } from './upstream-connection.js';
import { routeRequest } from './request-router.js';
import { notifyAfterStdioCheck, relayAfterStdioCheck } from './stdio-request-check.js';
import { progressTokenOf, ProgressRoutes, type ProgressToken } from './progress-routes.js';
import { PromptsJudged } from './prompts-judged.js';
import { TemplatesJudged } from './templates-judged.js';
import type { RequestsInFlight } from './requests-in-flight.js';
import { restoreAfterRestart } from './restore-after-restart.js';
import { relayUpdate, type HeldSubscription } from './standing-subscriptions.js';
import type { SubscribeAttempt } from './subscribe-attempt.js';
import { streamNewsEvent } from './stream-news-audit.js';
import type { StreamNews } from './upstream-stream-keeper.js';
import { isTaskMethod, isTaskNotification, upstreamInitializeParams, UPSTREAM_TASK_METHOD_REFUSAL, withoutTaskAugmentation } from './unsupported-tasks.js';
import { UpstreamStartError } from './upstream-start-error.js';

export interface SessionOptions {
  readonly sessionId: string;
  readonly channel: DownstreamChannel;
  readonly upstreams: Readonly<Record<string, Upstream>>;
  readonly timeouts: Timeouts;
  readonly maxUpstreamMessageBytes: number;
  /** Bound on output buffered for an upstream child that does not read its stdin (limits.maxBufferedOutputBytes). */
  readonly maxBufferedOutputBytes: number;
  readonly guard: Guard;
  readonly authenticator: Authenticator;
  readonly audit: AuditSink | undefined;
  readonly logger: Logger;
  /** HTTP: the principal that opened the session. Stdio: undefined (authenticated per call). */
  readonly principal: Principal | undefined;
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly serverInfo: { name: string; version: string };
  readonly onClosed: (session: ProxySession, reason: string) => void;
  /**
   * HTTP: the session's requests in flight, bounded by listen.http.maxRequestsInFlightPerSession
   * (the listener refuses a request over the bound; the session says when each one ends).
   */
  readonly requestsInFlight?: RequestsInFlight;
}

/** An agent request warden forwarded and has not answered yet. */
export interface InFlight {
  readonly upstream: UpstreamConnection;
  readonly upstreamId: number;
  /**
   * Tool calls: aborts the guard's signal and reports `cancelled`. `settled` is given when the
   * agent cancelled a request already forwarded (see {@link ProxySession.cancelUpstream}).
   */
  readonly onCancel?: (reason: string, settled?: Promise<void>) => void;
}

/**
 * One downstream MCP session and its own upstream connections. Routes every message both ways
 * with warden-issued ids, so responses and server→client traffic never cross sessions.
 */
export class ProxySession implements UpstreamEvents {
  readonly connections: UpstreamConnection[];
  readonly namespacer: Namespacer;
  /** Original tool definitions from each upstream's last tools/list, by upstream then name. */
  readonly toolDefinitions = new Map<string, Map<string, ToolDefinition>>();
  /** Whether a prompts/get may be judged by the pins' last listing of an upstream (see PromptsJudged). */
  readonly promptsJudged = new PromptsJudged();
  /** The resource templates a read or completion is judged by, per upstream (see TemplatesJudged). */
  readonly templatesJudged = new TemplatesJudged();
  /** Resource URIs → upstream that listed them; template URI prefixes → upstream. */
  readonly resourceOwners = new OwnerMap();
  readonly templateOwners = new OwnerMap();
  readonly inFlight = new Map<RpcId, InFlight>();
  /** Progress tokens of in-flight agent requests: where their upstream progress goes. */
  readonly progress = new ProgressRoutes();
  /** HTTP: requests received and not yet answered (see RequestsInFlight); undefined on stdio. */
  readonly requests: RequestsInFlight | undefined;
  readonly openedAt = Date.now();
  principal: Principal | undefined;
  /** Session state an upstream loses when it restarts, re-applied afterwards. */
  logLevel: Record<string, unknown> | undefined;
  /**
   * Resource subscriptions the upstreams took, by upstream and URI (subscriptionKey), with the
   * policy each was judged under; at most MAX_SUBSCRIPTIONS (request-router.ts). Only their updates
   * reach the agent; warden ends them when risk changes (standing-subscriptions.ts).
   */
  readonly subscriptions = new Map<string, HeldSubscription>();
  /** Subscribes admitted and not yet answered by their upstream (subscribe-attempt.ts). */
  readonly subscribing = new Set<SubscribeAttempt>();
  clientInfo: { name: string; version: string } | undefined;
  info: SessionInfo | undefined;
  /** Stdio: requests waiting behind a token check that had to wait (stdio-request-check.ts). */
  stdioCheckQueue: Promise<void> | undefined;
  /** Stdio: those requests by id, so an agent cancel reaches them before they are in flight. */
  readonly stdioWaiting = new Map<RpcId, { cancelled: boolean }>();
  /**
   * Stdio: the principal of the process token in force now (see ToolCallRequest.currentPrincipal);
   * undefined over HTTP. One function per session, handed to every call.
   */
  readonly currentStdioPrincipal: (() => MaybePromise<Principal | undefined>) | undefined;
  /** Server→client requests waiting at the agent; the agent has as long as a tool call to answer. */
  private readonly relay: ServerRequestRelay;
  private closed = false;
  /** Set when an initialize got past its first check; cleared only if it started nothing. */
  private initializeBegun = false;
  /** Why this session's initialize failed (`upstream 'x' failed to start: ...`), told again to every later request. */
  startFailure: string | undefined;

  constructor(readonly opts: SessionOptions) {
    this.principal = opts.principal;
    this.requests = opts.requestsInFlight;
    const authenticator = opts.authenticator;
    this.currentStdioPrincipal = opts.channel.transport === 'stdio' ? () => andThen(authenticator.authenticateStdio(), (r) => (r.ok ? r.principal : undefined)) : undefined;
    this.relay = new ServerRequestRelay(opts.timeouts.callMs, (relayId, reason) =>
      this.toAgent({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: relayId, reason } }),
    );
    this.connections = Object.entries(opts.upstreams).map(
      ([name, spec]) => new UpstreamConnection(name, spec, this, opts.logger, opts.timeouts.initializeMs, opts.maxUpstreamMessageBytes, opts.maxBufferedOutputBytes),
    );
    this.namespacer = new Namespacer(this.connections.map((c) => c.name));
    opts.channel.onmessage = (m) => this.fromAgent(m);
    opts.channel.onclose = (reason) => void this.close(reason ?? 'transport_closed');
  }

  get id(): string {
    return this.opts.sessionId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  connection(name: string): UpstreamConnection | undefined {
    return this.connections.find((c) => c.name === name);
  }

  /**
   * Sends to the agent; notifications tied to a request stay on that request's HTTP stream.
   * False when the message was not handed over (the session is closed, or it cannot be serialised).
   */
  toAgent(message: RpcMessage, related?: RpcId): boolean {
    // An answer ends its request (counted until now against the session's bound).
    if (this.requests !== undefined && !('method' in message)) this.requests.ended(message.id);
    if (this.closed) return false;
    try {
      this.opts.channel.send(message, related);
      return true;
    } catch (err) {
      // Only serialisation can throw here (an upstream answer nested beyond the stack): the agent
      // still gets an answer for that id, and warden lives on (this runs in message handlers).
      this.opts.logger.warn({ err: String(err) }, 'message to the agent could not be serialised');
      const id = (message as { id?: RpcId }).id;
      if (id !== undefined && !('method' in message)) {
        this.opts.channel.send({ jsonrpc: '2.0', id, error: { code: RPC.internalError, message: 'the upstream answer could not be relayed (not serialisable)' } }, related);
      }
      return false;
    }
  }

  /** Forwards a request to one upstream and relays its answer under the agent's id. */
  forward(upstream: UpstreamConnection, request: RpcRequest, params: Record<string, unknown> | undefined, timeoutMs: number): void {
    const token = progressTokenOf(params);
    this.progress.open(token, request.id);
    const upstreamId = upstream.request(request.method, params, timeoutMs, (response) => {
      this.inFlight.delete(request.id);
      response.id = request.id;
      // Unjudged, but the agent reads -32010 and the decision key as warden's all the same.
      withoutForgedDecision(response);
      this.answerAfterProgress(token, response);
    });
    // A cancel means the answer handler never runs: the progress token goes with the request.
    const onCancel = token === undefined ? undefined : (): void => this.progress.forget(token);
    this.inFlight.set(request.id, { upstream, upstreamId, onCancel });
  }

  /** Answers the agent, after any progress just relayed for the request (see ProgressRoutes.answer). */
  answerAfterProgress(token: ProgressToken | undefined, response: RpcResponse): void {
    this.progress.answer(token, response, this.sendAnswer);
  }

  /** Made once, not per answer. */
  private readonly sendAnswer = (response: RpcResponse): void => void this.toAgent(response, response.id);

  /** Handles the agent's `initialize`: start every upstream with the agent's own parameters. */
  async initialize(request: RpcRequest): Promise<void> {
    if (this.initializeBegun) {
      // Once per session: a second initialize would start every upstream again (a new child
      // process each time, the old ones never stopped), so an agent could exhaust the host.
      this.toAgent(errorResponse(request.id, RPC.invalidRequest, 'Invalid Request: session already initialized'));
      return;
    }
    this.initializeBegun = true;
    const params = request.params ?? {};
    this.clientInfo = clientInfoOf(params.clientInfo);
    if (!this.principal) {
      let auth: AuthResult;
      try {
        auth = await this.opts.authenticator.authenticateStdio();
      } catch (err) {
        this.initializeBegun = false;
        throw err;
      }
      // A revoked token still verifies: the guard knows the revocations (as for every later request).
      let refused: string | undefined;
      try {
        refused = auth.ok ? this.opts.guard.requestStanding?.(auth.principal, this.id) : auth.reason;
      } catch {
        refused = 'internal';
      }
      if (!auth.ok || refused !== undefined) {
        // No principal, no session: nothing is started on behalf of an unknown caller (who may try again).
        this.initializeBegun = false;
        const reason = refused ?? 'internal';
        this.toAgent(errorResponse(request.id, RPC.invalidRequest, `authentication failed: ${reason}`, { reason }));
        return;
      }
      this.principal = auth.principal;
    }
    const upstreamParams = upstreamInitializeParams(params);
    const started = await Promise.allSettled(this.connections.map((c) => c.start(upstreamParams)));
    const failed = started.findIndex((s) => s.status === 'rejected');
    if (failed !== -1) {
      const reason = (started[failed] as PromiseRejectedResult).reason as Error;
      const name = this.connections[failed]!.name;
      // The log has the whole story (the child's stderr, the SDK's error text); the agent gets
      // which upstream and a short reason made of warden's own words only (upstream-start-error.ts).
      this.opts.logger.error({ upstream: name, err: reason.message }, 'upstream failed to start');
      const summary = reason instanceof UpstreamStartError ? reason.summary : 'internal error';
      this.startFailure = `upstream '${name}' failed to start: ${summary}`;
      this.toAgent(errorResponse(request.id, RPC.internalError, this.startFailure, { reason: 'upstream_start_failed', upstream: name, detail: summary }));
      return;
    }
    this.toAgent({ jsonrpc: '2.0', id: request.id, result: mergeInitializeResults(this.connections, this.opts.serverInfo) });
    this.opened();
  }

  private opened(): void {
    const info: SessionInfo = {
      sessionId: this.id,
      principal: this.principal!,
      transport: this.opts.channel.transport,
      remoteAddress: this.opts.remoteAddress,
      userAgent: this.opts.userAgent,
      openedAt: this.openedAt,
    };
    this.info = info;
    // The guard records session.opened/closed (with the principal); the proxy only reports.
    this.safely(() => this.opts.guard.onSessionOpened?.(info));
  }

  private fromAgent(message: RpcMessage): void {
    try {
      if (isRequest(message)) {
        if (this.requests?.received(message.id) === 'duplicate') this.refuseDuplicate(message.id);
        else routeRequest(this, message);
      } else if (isResponse(message)) this.agentAnswer(message);
      else this.agentNotification(message as RpcNotification);
    } catch (err) {
      // Nothing an agent sends may end warden (in HTTP mode that would end every agent's session).
      this.opts.logger.error({ err: String(err), method: (message as { method?: string }).method }, 'agent message could not be handled');
      if (isRequest(message)) this.toAgent(errorResponse(message.id, RPC.internalError, 'internal error'));
    }
  }

  /**
   * A request under the id of one still open in this HTTP session. Answered without going through
   * toAgent: that would end the open request's count while it still runs.
   */
  private refuseDuplicate(id: RpcId): void {
    if (this.closed) return;
    this.opts.channel.send(errorResponse(id, RPC.invalidRequest, 'Invalid Request: a request with this id is still in flight'), id);
  }

  /**
   * A request of this session ends without an answer (an HTTP agent closed its stream before it
   * was forwarded): it no longer counts against the session's bound.
   */
  requestEnded(id: RpcId): void {
    this.requests?.ended(id);
  }

  /** The agent answers a server request warden relayed to it (elicitation, sampling, roots, ping). */
  private agentAnswer(response: RpcResponse): void {
    // HTTP authenticated this POST's own token; an answer to nothing warden relayed is dropped unchecked.
    if (this.opts.channel.transport === 'http' || !this.relay.holds(response.id)) {
      this.relay.answer(response);
      return;
    }
    relayAfterStdioCheck(this, response, () => this.relay.answer(response), (error) => this.relay.answer({ jsonrpc: '2.0', id: response.id, error }));
  }

  private agentNotification(n: RpcNotification): void {
    if (imitatedNotification(n.method) !== undefined) {
      // `notifications/Cancelled` would reach every upstream unmapped (see method-lookalike.ts).
      this.opts.logger.warn({ method: n.method }, 'agent notification with a look-alike name dropped');
      return;
    }
    const params = n.params ?? {};
    if (n.method === 'notifications/cancelled') {
      const id = params.requestId as RpcId;
      const entry = this.inFlight.get(id);
      if (!entry) {
        // Still waiting for its stdio token check: it will be neither routed nor answered.
        const waiting = this.stdioWaiting.get(id);
        if (waiting) waiting.cancelled = true;
        return;
      }
      this.inFlight.delete(id);
      const reason = typeof params.reason === 'string' ? params.reason : 'cancelled by client';
      // Not inside onCancel?.(): an optional call skips its arguments when there is no onCancel.
      const settled = this.cancelUpstream(id, entry, reason);
      // No answer is due after a cancel: the request no longer counts as open (unless
      // cancelUpstream keeps it counted while the upstream may still run it).
      this.requests?.ended(id);
      entry.onCancel?.(reason, settled);
      return;
    }
    if (this.info === undefined) {
      // Not opened (an initialize that failed with some upstreams already running): like its
      // requests, the session's notifications reach none of them (see routeRequest).
      return;
    }
    if (!n.method.startsWith('notifications/')) {
      // A request method without an id (`tools/call` above all): JSON-RPC servers run a
      // notification's method and only skip the reply, so it would run unjudged. Every MCP
      // notification is named `notifications/...`; anything else is dropped (fail closed).
      this.opts.logger.warn({ method: n.method }, 'agent notification with a request method dropped');
      return;
    }
    // HTTP authenticated this POST's own token; stdio's process token is checked now.
    if (this.opts.channel.transport === 'http') this.passNotification(n);
    else notifyAfterStdioCheck(this, n, () => this.passNotification(n));
  }

  /**
   * Tells the upstream to stop a forwarded request the agent cancelled. An upstream may ignore
   * `notifications/cancelled` and go on running it, and one that honours it never answers, so
   * warden keeps waiting for the request under its upstream id: the promise resolves when the
   * upstream is done with it (late answer, dropped; the request's own timeout; the connection
   * ended). Undefined when nothing runs upstream (not forwarded yet, or already answered).
   */
  private cancelUpstream(id: RpcId, entry: InFlight, reason: string): Promise<void> | undefined {
    if (entry.upstreamId < 0) return undefined;
    let done: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (done = resolve));
    // Still running upstream as far as warden knows: it counts against the session's bound, and
    // its bytes against the principal's (the pending upstream request still holds its body), so
    // cancelling and sending again cannot hold more at once. Started before the cancel is sent:
    // the upstream connection may settle it at once (a send that fails ends the connection).
    const drained = this.requests?.drainStarted(id);
    const held = entry.upstream.cancel(entry.upstreamId, reason, () => {
      drained?.();
      done();
    });
    if (held) return settled;
    drained?.();
    return undefined;
  }

  /** Progress on a relayed request goes to the upstream that asked; the rest reaches every upstream. */
  private passNotification(n: RpcNotification): void {
    if (n.method === 'notifications/progress') {
      this.relay.progress(n);
      return;
    }
    // No task was relayed to the agent: its task notifications belong to no upstream (unsupported-tasks.ts).
    if (isTaskNotification(n.method)) return;
    // initialized, roots/list_changed and unknown notifications.
    for (const c of this.connections) c.send(n);
  }

  onRequest(upstream: UpstreamConnection, request: RpcRequest): void {
    if (this.startFailure !== undefined) {
      // The session never opened (another upstream failed to start): nothing of it reaches the
      // agent, an elicitation or sampling from an upstream left running least of all.
      upstream.send(errorResponse(request.id, RPC.invalidRequest, 'Invalid Request: session not initialized'));
      return;
    }
    if (isTaskMethod(request.method) || imitatedMethod(request.method)?.startsWith('tasks/') === true) {
      // The agent's tasks are not offered to upstreams (unsupported-tasks.ts): one must not read
      // another's. A look-alike (`Tasks/List`) is refused too: a lenient client would answer it.
      upstream.send(errorResponse(request.id, RPC.methodNotFound, UPSTREAM_TASK_METHOD_REFUSAL));
      return;
    }
    // A task it asks for anyway is left out: the agent answers the ordinary way (unsupported-tasks.ts).
    const opened = this.relay.open(upstream, withoutTaskAugmentation(request));
    if (!opened.ok) {
      this.opts.logger.warn({ upstream: upstream.name, method: request.method }, 'server request refused: too many waiting for the client');
      return;
    }
    const relayId = opened.relayId;
    if (!this.toAgent(opened.message)) {
      // Not delivered (e.g. params nested beyond the serialiser's stack): the upstream gets its
      // answer now instead of waiting for one that can never come.
      this.relay.answer({ jsonrpc: '2.0', id: relayId, error: { code: RPC.internalError, message: 'the request could not be relayed to the client' } });
    }
  }

  /**
   * Warden listed `list` of `upstream` (a page of it unless `first` is false): a definition that
   * differs from the one last listed under its name was rewritten without an announcement (an
   * upstream may leave list_changed out), and is treated as announced: requests judged against the
   * old one are not forwarded, and a person is not asked about one (definition-changes.ts).
   */
  definitionsListed(upstream: UpstreamConnection, list: DefinitionList, defs: Iterable<{ readonly name: string }>, first = true): void {
    let changed = false;
    try {
      changed = upstream.definitionChanges.listed(list, defs, first);
    } catch (err) {
      // Fail closed: a listing that cannot be compared may hold a rewrite.
      changed = true;
      this.opts.logger.error({ upstream: upstream.name, err: String(err) }, 'could not compare a listing with the last one; treating it as changed');
    }
    if (changed) this.safely(() => this.opts.guard.onDefinitionsChanged?.(this.id, upstream.name, list, 'listed'));
  }

  onNotification(upstream: UpstreamConnection, n: RpcNotification): void {
    // The session never opened (another upstream failed to start): nothing of it reaches the agent.
    if (this.startFailure !== undefined) return;
    if (!n.method.startsWith('notifications/') || imitatedNotification(n.method) !== undefined) {
      // A request method without an id (`sampling/createMessage`) would skip the relay's bound and
      // timeout at a client that runs it; a look-alike of a gated notification would skip its gate.
      this.opts.logger.warn({ upstream: upstream.name, method: n.method }, 'upstream notification with a request method or a look-alike name dropped');
      return;
    }
    const params = n.params;
    if (n.method === 'notifications/progress' && params) {
      const token = params.progressToken as ProgressToken;
      const route = this.progress.routeOf(token);
      // A token of an agent request forwarded to another upstream, or not forwarded yet (being
      // judged, waiting for a person, where warden's own progress speaks): this upstream is forging
      // progress (and its message text) for a call it never received. Dropped.
      if (route !== undefined) {
        const entry = this.inFlight.get(route);
        if (entry?.upstream !== upstream || entry.upstreamId < 0) return;
      }
      this.toAgent(n, this.progress.relayed(token));
      return;
    }
    // Counted first: a request judged against the old definitions must not be forwarded
    // (tool-call-handler.ts), and a person must not be asked about one (the guard withdraws it).
    const changedList = upstream.definitionChanges.announced(n.method);
    if (changedList !== undefined) {
      this.safely(() => this.opts.guard.onDefinitionsChanged?.(this.id, upstream.name, changedList, 'announced'));
      // The listing warden holds no longer describes what the upstream offers: forgotten, as
      // after a restart, so the next request lists afresh and is judged (pins too) against it.
      // Resource templates are announced as a change of the resources. The agent is told as before.
      if (changedList === 'tools') this.toolDefinitions.delete(upstream.name);
      else if (changedList === 'prompts') this.promptsJudged.changed(upstream);
      else this.templatesJudged.changed(upstream);
    }
    // Updates only for what this session subscribed to at this upstream, and still holds, for a caller whose token is still accepted.
    if (n.method === 'notifications/resources/updated') {
      relayUpdate(this, upstream, n);
      return;
    }
    if (n.method === 'notifications/cancelled' && params) {
      const relayId = this.relay.cancelledByUpstream(upstream, params.requestId);
      if (relayId !== undefined) this.toAgent({ ...n, params: { ...params, requestId: relayId } });
      return;
    }
    this.toAgent(n);
  }

  onRestarted(upstream: UpstreamConnection): void {
    // The old process's requests can no longer be answered: withdrawn at the agent.
    for (const relayId of this.relay.forgetUpstream(upstream)) {
      this.toAgent({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: relayId, reason: `upstream '${upstream.name}' restarted` } });
    }
    // Calls to it waiting for a person were judged against the old process: withdrawn at once.
    this.safely(() => this.opts.guard.onUpstreamRestarted?.(this.id, upstream.name));
    restoreAfterRestart(this, upstream);
  }

  onStreamNews(upstream: UpstreamConnection, news: StreamNews): void {
    // Not a decision: an unhealthy sink (it throws) is logged here, never taken as a reason to stop.
    const audit = this.opts.audit;
    if (audit) this.safely(() => audit.record(streamNewsEvent(this.id, upstream.name, news)));
  }

  /** Ends the session: upstreams stop, in-flight tool calls are aborted, the guard is told. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.inFlight.values()) entry.onCancel?.(`session closed: ${reason}`);
    this.inFlight.clear();
    // Its requests end here without answers: their places and bytes are free at once (an evicted
    // session's bytes make room for the session that evicted it).
    this.requests?.close();
    this.relay.clear();
    await Promise.allSettled(this.connections.map((c) => c.close()));
    await this.opts.channel.close(reason).catch(() => undefined);
    const info = this.info;
    if (info) {
      this.safely(() => this.opts.guard.onSessionClosed?.(info, reason));
    }
    this.opts.onClosed(this, reason);
  }

  /** Lifecycle hooks and session audit must not take the proxy down; failures are logged. */
  safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ sessionId: this.id, err: String(err) }, 'session hook failed');
    }
  }
}

/**
 * The agent's self-description, kept as strings only: it is untrusted and feeds signals and the
 * audit, where a name like `{"toString":1}` made every later call of the session fail closed.
 * (The upstreams still get the agent's initialize params unchanged.)
 */
function clientInfoOf(value: unknown): { name: string; version: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, version } = value as Record<string, unknown>;
  return { name: typeof name === 'string' ? name : '', version: typeof version === 'string' ? version : '' };
}
