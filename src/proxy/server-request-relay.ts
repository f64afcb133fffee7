import type { RpcId, RpcRequest, RpcResponse } from './json-rpc.js';
import type { UpstreamConnection } from './upstream-connection.js';

interface Relayed {
  readonly upstream: UpstreamConnection;
  readonly upstreamId: RpcId;
}

/**
 * Server→client requests (sampling, elicitation, roots, ping) relayed to the agent under
 * warden-issued ids (`w1`, `w2`, ...), so two upstreams' ids can never collide at the agent.
 * Keeps the way back for answers, cancellations and the agent's progress reports.
 */
export class ServerRequestRelay {
  private readonly byRelayId = new Map<string, Relayed>();
  private readonly byUpstream = new Map<string, string>();
  private readonly progressTargets = new Map<string | number, UpstreamConnection>();
  private nextId = 1;

  /** Registers an upstream request; returns the id to use towards the agent. */
  open(upstream: UpstreamConnection, request: RpcRequest, progressToken: string | number | undefined): string {
    const relayId = `w${this.nextId++}`;
    this.byRelayId.set(relayId, { upstream, upstreamId: request.id });
    this.byUpstream.set(key(upstream, request.id), relayId);
    if (progressToken !== undefined) this.progressTargets.set(progressToken, upstream);
    return relayId;
  }

  /** The agent answered: routes the response back with the upstream's own id. */
  answer(response: RpcResponse): void {
    const entry = this.byRelayId.get(String(response.id));
    if (!entry) return;
    this.byRelayId.delete(String(response.id));
    this.byUpstream.delete(key(entry.upstream, entry.upstreamId));
    response.id = entry.upstreamId;
    entry.upstream.send(response);
  }

  /** The upstream cancelled its own request: the relay id to cancel at the agent, if any. */
  cancelledByUpstream(upstream: UpstreamConnection, upstreamId: unknown): string | undefined {
    // Only string and number ids were ever relayed; anything else (an object from the upstream's
    // params) names nothing, and must not reach String() (an object can throw converting).
    if (typeof upstreamId !== 'string' && typeof upstreamId !== 'number') return undefined;
    const relayId = this.byUpstream.get(key(upstream, upstreamId));
    if (relayId === undefined) return undefined;
    this.byUpstream.delete(key(upstream, upstreamId));
    this.byRelayId.delete(relayId);
    return relayId;
  }

  /** Which upstream the agent's progress report for a relayed request belongs to. */
  progressTarget(token: unknown): UpstreamConnection | undefined {
    return typeof token === 'string' || typeof token === 'number' ? this.progressTargets.get(token) : undefined;
  }
}

function key(upstream: UpstreamConnection, id: RpcId): string {
  // Typed RpcId on purpose: String() of an arbitrary object can throw (`{"toString":1}`), and
  // this runs in the upstream's message handler, where a throw ends warden.
  return `${upstream.name}\u0000${String(id)}`;
}
