import { RPC, type RpcId, type RpcNotification, type RpcRequest, type RpcResponse } from './json-rpc.js';
import { progressTokenOf } from './progress-routes.js';
import type { UpstreamConnection } from './upstream-connection.js';

/**
 * Most server→client requests (sampling, elicitation, roots) one session may have waiting at the
 * agent at once. Honest servers keep a handful open; without a cap an upstream that keeps asking
 * while the agent never answers (or an agent that never answers) grows warden's memory for every
 * session in the process. A request beyond it is answered -32603 to the upstream, never relayed.
 */
export const MAX_RELAYED_REQUESTS = 100;

interface Relayed {
  readonly upstream: UpstreamConnection;
  readonly upstreamId: RpcId;
  readonly progressToken: string | number | undefined;
  readonly timer: NodeJS.Timeout;
}

/** What became of a request from the upstream: refused, or the request to relay to the agent. */
export type OpenResult = { ok: true; relayId: string; message: RpcRequest } | { ok: false };

/**
 * Server→client requests (sampling, elicitation, roots, ping) relayed to the agent under
 * warden-issued ids (`w1`, `w2`, ...), so two upstreams' ids can never collide at the agent.
 * A request's progress token is replaced by its relay id the same way: tokens are the upstream's
 * choice (SDK servers use their own message id, which starts over per server), so two upstreams
 * often pick the same one, and routing the agent's progress by the upstream's token sent it to
 * whichever upstream asked last (another upstream read it, the right one never got it).
 * Keeps the way back for answers, cancellations and the agent's progress reports. Every entry
 * ends by answer, cancel or timeout, and at most MAX_RELAYED_REQUESTS are open at once.
 */
export class ServerRequestRelay {
  private readonly byRelayId = new Map<string, Relayed>();
  private readonly byUpstream = new Map<string, string>();
  private nextId = 1;

  /**
   * @param timeoutMs how long the agent may take to answer; then the upstream gets -32001.
   * @param onExpired tells the agent to stop working on a request the upstream no longer waits for.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly onExpired: (relayId: string, reason: string) => void,
  ) {}

  /** Registers an upstream request; beyond the cap it is answered with an error here and refused. */
  open(upstream: UpstreamConnection, request: RpcRequest): OpenResult {
    if (this.byRelayId.size >= MAX_RELAYED_REQUESTS) {
      // Fail closed: the upstream learns now that nothing was relayed, instead of waiting forever.
      upstream.send({ jsonrpc: '2.0', id: request.id, error: { code: RPC.internalError, message: `too many requests waiting for the client (limit ${MAX_RELAYED_REQUESTS})` } });
      return { ok: false };
    }
    const relayId = `w${this.nextId++}`;
    const timer = setTimeout(() => this.expire(relayId), this.timeoutMs);
    timer.unref();
    const progressToken = progressTokenOf(request.params);
    this.byRelayId.set(relayId, { upstream, upstreamId: request.id, progressToken, timer });
    this.byUpstream.set(key(upstream, request.id), relayId);
    return { ok: true, relayId, message: relayedRequest(request, relayId, progressToken !== undefined) };
  }

  /** The agent answered: routes the response back with the upstream's own id. */
  answer(response: RpcResponse): void {
    const entry = this.take(String(response.id));
    if (!entry) return;
    response.id = entry.upstreamId;
    entry.upstream.send(response);
  }

  /** Whether `relayId` names a request still waiting for the agent's answer. */
  holds(relayId: RpcId): boolean {
    return this.byRelayId.has(String(relayId));
  }

  /** The upstream cancelled its own request: the relay id to cancel at the agent, if any. */
  cancelledByUpstream(upstream: UpstreamConnection, upstreamId: unknown): string | undefined {
    // Only string and number ids were ever relayed; anything else (an object from the upstream's
    // params) names nothing, and must not reach String() (an object can throw converting).
    if (typeof upstreamId !== 'string' && typeof upstreamId !== 'number') return undefined;
    const relayId = this.byUpstream.get(key(upstream, upstreamId));
    if (relayId === undefined) return undefined;
    this.take(relayId);
    return relayId;
  }

  /**
   * The upstream was replaced (a restarted process, a new HTTP session): requests of the old one
   * are forgotten, and their relay ids returned so the agent can be told. Ids start over with the
   * new process, so a late answer must not reach it as the answer to a request of its own.
   */
  forgetUpstream(upstream: UpstreamConnection): string[] {
    const gone: string[] = [];
    for (const [relayId, entry] of this.byRelayId) if (entry.upstream === upstream) gone.push(relayId);
    for (const relayId of gone) this.take(relayId);
    return gone;
  }

  /**
   * The agent reports progress on a relayed request (its token is the relay id): sent to the
   * upstream that asked, under that upstream's own token. Any other token is dropped.
   */
  progress(notification: RpcNotification): void {
    const token = notification.params?.progressToken;
    const entry = typeof token === 'string' ? this.byRelayId.get(token) : undefined;
    if (entry?.progressToken === undefined) return;
    entry.upstream.send({ ...notification, params: { ...notification.params, progressToken: entry.progressToken } });
  }

  /** Requests waiting for the agent (for tests and diagnostics). */
  get size(): number {
    return this.byRelayId.size;
  }

  /** Session closed: timers stop; the upstreams are being closed, so nobody waits for answers. */
  clear(): void {
    for (const entry of this.byRelayId.values()) clearTimeout(entry.timer);
    this.byRelayId.clear();
    this.byUpstream.clear();
  }

  private expire(relayId: string): void {
    const entry = this.take(relayId);
    if (!entry) return;
    // The agent never answered: the upstream gets the same -32001 warden gives agents for a hung upstream.
    const reason = `the client did not answer within ${this.timeoutMs} ms`;
    entry.upstream.send({ jsonrpc: '2.0', id: entry.upstreamId, error: { code: RPC.requestTimeout, message: reason } });
    this.onExpired(relayId, `warden timeout: ${reason}`);
  }

  /** Removes every trace of one relayed request; the entry, if it was open. */
  private take(relayId: string): Relayed | undefined {
    const entry = this.byRelayId.get(relayId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.byRelayId.delete(relayId);
    this.byUpstream.delete(key(entry.upstream, entry.upstreamId));
    return entry;
  }
}

function key(upstream: UpstreamConnection, id: RpcId): string {
  // Typed RpcId on purpose: String() of an arbitrary object can throw (`{"toString":1}`), and
  // this runs in the upstream's message handler, where a throw ends warden.
  return `${upstream.name}\u0000${String(id)}`;
}

/** The upstream's request as the agent gets it: the relay id, and as progress token too if it had one. */
function relayedRequest(request: RpcRequest, relayId: string, hasToken: boolean): RpcRequest {
  if (!hasToken) return { ...request, id: relayId };
  const params = request.params!;
  const meta = params._meta as Record<string, unknown>;
  return { ...request, id: relayId, params: { ...params, _meta: { ...meta, progressToken: relayId } } };
}
