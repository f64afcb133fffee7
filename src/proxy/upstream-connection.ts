import { DefinitionChanges } from './definition-changes.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Upstream } from '../config/config-schema.js';
import type { Logger } from '../logging/logger.js';
import { errorResponse, isRequest, isResponse, RPC, validateMessage, type RpcErrorObject, type RpcMessage, type RpcNotification, type RpcRequest, type RpcResponse } from './json-rpc.js';
import { isSessionNotFound } from './http-upstream-loss.js';
import { createUpstreamTransport } from './upstream-transport.js';
import { ChildStdioTransport } from './child-stdio-transport.js';
import { Deadlines } from './deadlines.js';
import { NotificationBacklog } from './notification-backlog.js';
import type { AnsweredStreams } from './answered-streams.js';
import { endUpstreamSession } from './upstream-session-end.js';
import { UpstreamStartError, exitSummary, initializeFailureSummary, lossSummary, spawnFailureSummary } from './upstream-start-error.js';
import type { StreamKeeper, StreamNews } from './upstream-stream-keeper.js';

export type ResponseHandler = (response: RpcResponse) => void;

export interface UpstreamEvents {
  /** A request from the upstream to the client (sampling, elicitation, roots, ping). */
  onRequest(upstream: UpstreamConnection, request: RpcRequest): void;
  onNotification(upstream: UpstreamConnection, notification: RpcNotification): void;
  /** The upstream came back after a crash (stdio) or a lost session or connection (HTTP) and was re-initialized. */
  onRestarted(upstream: UpstreamConnection): void;
  /** HTTP: the upstream's standing GET stream (its server-initiated messages) was lost or is open again. */
  onStreamNews?(upstream: UpstreamConnection, news: StreamNews): void;
}

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

/**
 * One connection from warden to one upstream tool server, owned by one downstream session.
 * Request ids towards the upstream are warden's own (a counter), so an agent's ids can never
 * collide or cross sessions. A crash (stdio) or a lost session or connection (HTTP) fails every
 * in-flight request with -32000 and restarts the server, or starts a new HTTP session, with
 * exponential backoff.
 */
export class UpstreamConnection {
  initializeResult: Record<string, unknown> | undefined;
  private transport: Transport | undefined;
  private nextId = 1;
  /** Waiting requests by warden's upstream id: the handler that gets their answer. */
  private readonly pending = new Map<number, ResponseHandler>();
  /**
   * Cancelled requests still waited for (see {@link cancel} with `settled`): their entry in
   * `pending` only tells the owner when the upstream is done with them; their answer is dropped.
   */
  private readonly draining = new Set<number>();
  private readonly deadlines = new Deadlines({ waiting: this.pending, expire: (id, ms) => this.timeout(id, ms) });
  private initParams: Record<string, unknown> | undefined;
  private state: 'idle' | 'connecting' | 'ready' | 'down' | 'closed' = 'idle';
  private backoffMs = FIRST_BACKOFF_MS;
  /** When the current connection became ready (monotonic ms): how long it stayed up. */
  private readyAt = 0;
  private sessions = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Why the transport being started was lost (warden's own words), for the start error's summary. */
  private startLoss: string | undefined;
  private readonly notifications: NotificationBacklog;
  /** The list_changed announcements of this upstream, counted for requests being judged (definition-changes.ts). */
  readonly definitionChanges = new DefinitionChanges();
  /** HTTP: the event streams of requests sent on the current transport (see answered-streams.ts). */
  private answerStreams: AnsweredStreams | undefined;
  private readonly notificationSettled = (): void => {
    for (const method of this.notifications.settled()) this.send({ jsonrpc: '2.0', method });
  };

  constructor(
    readonly name: string,
    private readonly spec: Upstream,
    private readonly events: UpstreamEvents,
    private readonly logger: Logger,
    private readonly initializeMs: number,
    private readonly maxMessageBytes: number,
    private readonly maxBufferedOutputBytes: number,
  ) {
    this.notifications = new NotificationBacklog(name, logger);
  }

  /**
   * Which upstream session this is (1 for the first, +1 after each restart or new HTTP session).
   * A call judged against one session must not be forwarded to the next: its tool may differ.
   */
  get generation(): number {
    return this.sessions;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  get capabilities(): Record<string, unknown> {
    return (this.initializeResult?.capabilities as Record<string, unknown> | undefined) ?? {};
  }

  /** Starts the server and runs `initialize` with the agent's own parameters. */
  async start(initParams: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.initParams = initParams;
    await this.connect();
    return this.initializeResult!;
  }

  /** Sends a request with a fresh upstream id; the handler runs exactly once (answer, error, timeout, crash). */
  request(method: string, params: Record<string, unknown> | undefined, timeoutMs: number, handler: ResponseHandler): number {
    const id = this.nextId++;
    const open = this.state === 'ready' || (this.state === 'connecting' && method === 'initialize');
    if (!open || !this.transport) {
      queueMicrotask(() => handler(failure(id, RPC.upstreamClosed, `upstream '${this.name}' is not available`)));
      return id;
    }
    this.pending.set(id, handler);
    if (timeoutMs > 0) this.deadlines.add(id, timeoutMs);
    const message: RpcRequest = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
    const transport = this.transport;
    if (transport instanceof ChildStdioTransport) {
      // Our own child transport can say at once whether the message was taken (no promise per call);
      // a failure is still answered asynchronously, as a rejected send would be, after request() returned.
      const err = transport.sendNow(message as JSONRPCMessage);
      if (err !== undefined) queueMicrotask(() => this.sendFailed(id, err));
    } else {
      transport.send(message as JSONRPCMessage).catch((err: unknown) => this.sendFailed(id, err));
    }
    return id;
  }

  private sendFailed(id: number, err: unknown): void {
    this.settle(failure(id, RPC.upstreamClosed, `upstream '${this.name}' send failed: ${String(err)}`));
  }

  /**
   * Sends a notification, or the answer to a server→client request (it carries the upstream's own
   * id). Notifications are bounded while the upstream has not taken them (see NotificationBacklog),
   * except cancellations: warden sends one only for a request of its own that is waiting, and
   * passes the agent's on only for a request in flight, so those are bounded already.
   */
  send(message: RpcMessage): void {
    if (this.state !== 'ready') return;
    const counted = !('id' in message) && 'method' in message && message.method !== 'notifications/cancelled';
    if (counted && !this.notifications.admit(message.method)) return;
    const sent = this.transport!.send(message as JSONRPCMessage);
    if (counted) void sent.then(this.notificationSettled, this.notificationSettled);
    sent.catch((err: unknown) => {
      this.logger.warn({ upstream: this.name, err: String(err) }, 'upstream send failed');
      // The agent's result for the upstream's own request could not be written (nested beyond the
      // serialiser's stack): the upstream still gets an answer for that id, an error. Only results
      // are replaced, so a failing error answer can never loop.
      if (isResponse(message) && message.result !== undefined) this.send(errorResponse(message.id, RPC.internalError, 'the client answer could not be relayed (not serialisable)'));
    });
  }

  /**
   * Sends `notifications/cancelled` for a request. Without `settled`, warden stops waiting for its
   * answer at once. With it, warden keeps waiting, since an upstream may ignore the cancel and go
   * on running the request: `settled` runs once when the upstream is done with it (its late answer
   * arrived, which is dropped and never relayed; its own timeout passed; or the connection ended).
   * False when the request was not waiting (then `settled` is not called).
   */
  cancel(id: number, reason: string, settled?: () => void): boolean {
    if (!this.pending.has(id) || this.draining.has(id)) return false;
    if (settled === undefined) this.answered(id);
    else {
      this.draining.add(id);
      this.pending.set(id, () => settled());
    }
    this.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
    return true;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.failAll('warden is closing the session');
    this.deadlines.clear();
    const transport = this.transport;
    this.transport = undefined;
    if (!transport) return;
    await endUpstreamSession(transport);
    await transport.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const limits = { maxMessageBytes: this.maxMessageBytes, maxBufferedOutputBytes: this.maxBufferedOutputBytes };
    const { transport, keeper, answered } = createUpstreamTransport(this.name, this.spec, this.logger, limits, {
      onLost: (reason) => this.lost(transport, reason),
      onStream: (news) => {
        if (this.transport === transport) this.events.onStreamNews?.(this, news);
      },
    });
    this.transport = transport;
    this.answerStreams = answered;
    // A replaced transport's messages belong to a lost session: never relayed to the agent.
    transport.onmessage = (message) => {
      if (this.transport !== transport) return;
      // Its answer ends the event stream a request's POST got (an upstream that never ends it
      // would hold a socket per request); a late or unknown answer ends its stream too.
      const id = (message as { id?: unknown }).id;
      if (answered && typeof id === 'number' && !('method' in message)) answered.end(id);
      this.receive(message as RpcMessage);
    };
    transport.onerror = (err) => this.onTransportError(transport, err, keeper);
    transport.onclose = () => this.lost(transport, 'closed unexpectedly');
    this.state = 'connecting';
    this.startLoss = undefined;
    try {
      await transport.start();
    } catch (err) {
      // A child that cannot be spawned (command not found, not executable): what the agent may
      // be told is its errno code; the log gets the whole message.
      throw new UpstreamStartError(this.name, spawnFailureSummary(err), `upstream '${this.name}' could not be started: ${String(err)}`, { cause: err });
    }
    await this.abandonIfClosed(transport);
    const result = await new Promise<RpcResponse>((resolve) => this.request('initialize', this.initParams, this.initializeMs, resolve));
    await this.abandonIfClosed(transport);
    if (result.error) {
      this.state = 'down';
      // Detach first: closing it is warden's own doing, not a loss to recover from (the HTTP
      // transport calls onclose from close(); a second restart would be scheduled).
      this.transport = undefined;
      await transport.close().catch(() => undefined);
      throw new UpstreamStartError(this.name, this.startFailureSummary(transport, result.error), `upstream '${this.name}' initialize failed: ${result.error.message}`);
    }
    this.initializeResult = result.result ?? {};
    this.state = 'ready';
    this.sessions += 1;
    this.readyAt = performance.now();
    const version = this.initializeResult.protocolVersion;
    const http = transport as { setProtocolVersion?: (v: string) => void };
    if (typeof version === 'string' && typeof http.setProtocolVersion === 'function') http.setProtocolVersion(version);
  }

  /**
   * close() may run while connect() awaits (the session ended during a restart): the connection
   * then stays closed, the transport just started is closed too, and connect() ends with an error
   * instead of marking the connection down, which would schedule yet another restart.
   */
  private async abandonIfClosed(transport: Transport): Promise<void> {
    if (!this.isClosed()) return;
    if (this.transport === transport) this.transport = undefined;
    await transport.close().catch(() => undefined);
    throw new Error(`upstream '${this.name}' was closed while it was starting`);
  }

  /** What the agent may be told about a start that failed at `initialize` (see UpstreamStartError). */
  private startFailureSummary(transport: Transport, error: RpcErrorObject): string {
    if (this.startLoss === undefined) return initializeFailureSummary(error, RPC.requestTimeout, RPC.upstreamClosed, this.initializeMs);
    const exit = transport instanceof ChildStdioTransport ? transport.exitSummary() : undefined;
    return `${exit ?? lossSummary(this.startLoss)} during start-up`;
  }

  /** A method, not an inline comparison: TypeScript would keep a narrowing from before an await. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private receive(raw: RpcMessage): void {
    const checked = validateMessage(raw);
    if (!checked.ok) {
      this.rejectInvalid(raw, checked.reason);
      return;
    }
    const message = checked.message;
    if (isResponse(message)) {
      this.settle(message);
    } else if (isRequest(message)) {
      this.events.onRequest(this, message);
    } else {
      this.events.onNotification(this, message as RpcNotification);
    }
  }

  /**
   * Not a JSON-RPC 2.0 message (no `jsonrpc`, a method that is not a string, an id that is an
   * object, ...): never relayed to the agent, whose client may choke on it, and never routed (an
   * object id cannot even be used as a key). An invalid request gets -32600 with id null, as a
   * batch or a non-object line does; anything else is only logged, so two peers can never
   * answer each other's error answers forever.
   */
  private rejectInvalid(raw: unknown, reason: string): void {
    this.logger.warn({ upstream: this.name, reason }, 'upstream sent an invalid JSON-RPC message; dropped');
    const isInvalidRequest = typeof raw === 'object' && raw !== null && 'method' in raw && 'id' in raw;
    if (isInvalidRequest) this.send(errorResponse(null, RPC.invalidRequest, `Invalid Request: ${reason}`));
  }

  private settle(response: RpcResponse): void {
    if (typeof response.id !== 'number') return;
    const handler = this.pending.get(response.id);
    if (!handler) return; // late answer to a cancelled or timed-out request: dropped
    this.answered(response.id);
    handler(response);
  }

  /** A request no longer waits; its deadline entry is skipped when it falls due. */
  private answered(id: number): void {
    this.pending.delete(id);
    this.draining.delete(id);
    if (this.pending.size === 0) this.deadlines.idle();
  }

  private timeout(id: number, ms: number): void {
    const handler = this.pending.get(id);
    if (!handler) return;
    // Nothing for it is awaited any more: the event stream its POST got ends too (see AnsweredStreams).
    this.answerStreams?.end(id);
    if (this.draining.has(id)) {
      // Cancelled earlier and still unanswered: it was told to stop once; its time is up now.
      this.answered(id);
      handler(failure(id, RPC.requestTimeout, `upstream '${this.name}' timed out after ${ms} ms`));
      return;
    }
    // A hung upstream: tell it to stop, and answer the agent instead of waiting forever.
    this.cancel(id, `warden timeout after ${ms} ms`);
    handler(failure(id, RPC.requestTimeout, `upstream '${this.name}' timed out after ${ms} ms`));
  }

  private failAll(reason: string): void {
    const entries = [...this.pending.entries()];
    this.pending.clear();
    this.draining.clear();
    this.deadlines.idle();
    for (const [id, handler] of entries) handler(failure(id, RPC.upstreamClosed, reason));
  }

  private onTransportError(transport: Transport, err: Error, keeper: StreamKeeper | undefined): void {
    this.logger.debug({ upstream: this.name, err: err.message }, 'upstream transport error');
    // The HTTP upstream ended our session: per spec only a new session (a fresh initialize) helps.
    if (isSessionNotFound(transport, err)) this.lost(transport, `lost its session (HTTP ${(err as { code?: number }).code ?? 404})`);
    // Otherwise it may be the SDK giving up on the standing GET stream: the keeper takes over.
    else keeper?.noticeError(err);
  }

  /**
   * The upstream is gone: the child exited (stdio), or the server ended our session or the
   * connection to it failed (HTTP). Reports from a transport already replaced are stale.
   */
  private lost(transport: Transport, reason: string): void {
    if (this.transport !== transport || this.state === 'closed' || this.state === 'down') return;
    if (this.state === 'connecting') {
      // Lost while starting: the pending initialize fails and connect()'s caller decides what next.
      this.startLoss = reason;
      this.failAll(`upstream '${this.name}' ${reason} during start-up`);
      return;
    }
    this.logger.warn({ upstream: this.name, reason }, 'upstream lost; restarting with backoff');
    this.state = 'down';
    this.transport = undefined;
    // Every waiting request gets its answer now: the lost session or process will never send it.
    this.failAll(`upstream '${this.name}' ${reason}`);
    // An HTTP transport stays open after its session is gone; closing it stops its GET stream and
    // the SDK's reconnection attempts. A stdio child that already exited makes this a no-op.
    void transport.close().catch(() => undefined);
    // Only a connection that stayed up starts the backoff over. One lost again right after its
    // initialize (a crash loop, or an HTTP server behind a load balancer that does not keep
    // sessions on one replica) keeps doubling the delay instead of retrying every 250 ms.
    if (performance.now() - this.readyAt >= MAX_BACKOFF_MS) this.backoffMs = FIRST_BACKOFF_MS;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.state === 'closed' || this.initParams === undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.restartTimer = setTimeout(() => void this.restart(), delay);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.state === 'closed') return;
    try {
      await this.connect();
      this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      this.logger.info({ upstream: this.name }, 'upstream restarted');
      this.events.onRestarted(this);
    } catch (err) {
      if (this.isClosed()) return;
      this.logger.warn({ upstream: this.name, err: String(err) }, 'upstream restart failed');
      if (this.transport) await this.transport.close().catch(() => undefined);
      this.transport = undefined;
      this.state = 'down';
      this.scheduleRestart();
    }
  }
}

function failure(id: number, code: number, message: string): RpcResponse {
  const error: RpcErrorObject = { code, message };
  return { jsonrpc: '2.0', id, error };
}
