import type { RpcId, RpcResponse } from './json-rpc.js';

export type ProgressToken = string | number;

/** The agent's progress token of a request, when it is one the protocol allows (string or number). */
export function progressTokenOf(params: Record<string, unknown> | undefined): ProgressToken | undefined {
  const meta = params?._meta as Record<string, unknown> | undefined;
  const token = meta?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/**
 * What one session keeps to route upstream progress notifications: which agent request a token
 * belongs to (over HTTP, its notifications travel on that request's stream) and when progress for
 * it was last relayed. Every entry goes when its request is answered or cancelled, or an agent
 * sending and cancelling requests in a loop would grow these maps for the session's life.
 */
export class ProgressRoutes {
  private readonly requests = new Map<ProgressToken, RpcId>();
  private readonly lastRelayedAt = new Map<ProgressToken, number>();

  /** Routes progress for `token` to the agent request `requestId` until forgotten. */
  open(token: ProgressToken | undefined, requestId: RpcId): void {
    if (token !== undefined) this.requests.set(token, requestId);
  }

  /** Drops the routing of a request that was cancelled (no answer will come). */
  forget(token: ProgressToken): void {
    this.requests.delete(token);
    this.lastRelayedAt.delete(token);
  }

  /** The agent request `token` routes to, if any (nothing is remembered). */
  routeOf(token: ProgressToken): RpcId | undefined {
    return this.requests.get(token);
  }

  /** The agent request an upstream progress notification belongs to; remembers that it was relayed now. */
  relayed(token: ProgressToken): RpcId | undefined {
    const related = this.requests.get(token);
    if (related !== undefined) this.lastRelayedAt.set(token, performance.now());
    return related;
  }

  /** Entries held (routes, relay times): for tests and diagnostics. */
  get size(): { readonly routes: number; readonly relayTimes: number } {
    return { routes: this.requests.size, relayTimes: this.lastRelayedAt.size };
  }

  /**
   * Sends a response to a request that carried a progress token. SDK clients run notification
   * handlers in a microtask but responses synchronously, so a final progress notification read in
   * the same chunk as the response is dropped. A direct connection rarely coalesces them; warden
   * relays both in one tick, so it waits a moment when progress was just relayed.
   */
  answer(token: ProgressToken | undefined, response: RpcResponse, send: (response: RpcResponse) => void): void {
    if (token === undefined) {
      send(response);
      return;
    }
    const last = this.lastRelayedAt.get(token);
    this.forget(token);
    if (last === undefined || performance.now() - last > 5) send(response);
    else setTimeout(() => send(response), 5);
  }
}
