import { RPC, type RpcId, type RpcRequest, type RpcResponse } from './json-rpc.js';
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

/** What became of a request from the upstream. */
export type OpenResult = { ok: true; relayId: string } | { ok: false };

/**
 * Server→client requests (sampling, elicitation, roots, ping) relayed to the agent under
 * warden-issued ids (`w1`, `w2`, ...), so two upstreams' ids can never collide at the agent.
 * Keeps the way back for answers, cancellations and the agent's progress reports. Every entry
 * ends by answer, cancel or timeout, and at most MAX_RELAYED_REQUESTS are open at once.
 */
export class ServerRequestRelay {
  private readonly byRelayId = new Map<string, Relayed>();
  private readonly byUpstream = new Map<string, string>();
  private readonly progressTargets = new Map<string | number, UpstreamConnection>();
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
  open(upstream: UpstreamConnection, request: RpcRequest, progressToken: string | number | undefined): OpenResult {
    if (this.byRelayId.size >= MAX_RELAYED_REQUESTS) {
      // Fail closed: the upstream learns now that nothing was relayed, instead of waiting forever.
      upstream.send({ jsonrpc: '2.0', id: request.id, error: { code: RPC.internalError, message: `too many requests waiting for the client (limit ${MAX_RELAYED_REQUESTS})` } });
      return { ok: false };
    }
    const relayId = `w${this.nextId++}`;
    const timer = setTimeout(() => this.expire(relayId), this.timeoutMs);
    timer.unref();
    this.byRelayId.set(relayId, { upstream, upstreamId: request.id, progressToken, timer });
    this.byUpstream.set(key(upstream, request.id), relayId);
    if (progressToken !== undefined) this.progressTargets.set(progressToken, upstream);
    return { ok: true, relayId };
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

  /** Which upstream the agent's progress report for a relayed request belongs to. */
  progressTarget(token: unknown): UpstreamConnection | undefined {
    return typeof token === 'string' || typeof token === 'number' ? this.progressTargets.get(token) : undefined;
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
    this.progressTargets.clear();
  }

  private expire(relayId: string): void {
    const entry = this.take(relayId);
    if (!entry) return;
    // The agent never answered: the upstream gets the same -32001 warden gives agents for a hung upstream.
    const reason = `the client did not answer within ${this.timeoutMs} ms`;
    entry.upstream.send({ jsonrpc: '2.0', id: entry.upstreamId, error: { code: RPC.requestTimeout, message: reason } });
    this.onExpired(relayId, `warden timeout: ${reason}`);
  }

  /** Removes every trace of one relayed request (its progress token too); the entry, if it was open. */
  private take(relayId: string): Relayed | undefined {
    const entry = this.byRelayId.get(relayId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.byRelayId.delete(relayId);
    this.byUpstream.delete(key(entry.upstream, entry.upstreamId));
    // Only if the token still points at this upstream: another upstream may reuse the same token.
    const token = entry.progressToken;
    if (token !== undefined && this.progressTargets.get(token) === entry.upstream) this.progressTargets.delete(token);
    return entry;
  }
}

function key(upstream: UpstreamConnection, id: RpcId): string {
  // Typed RpcId on purpose: String() of an arbitrary object can throw (`{"toString":1}`), and
  // this runs in the upstream's message handler, where a throw ends warden.
  return `${upstream.name}\u0000${String(id)}`;
}
