import type { RpcId } from './json-rpc.js';

/**
 * The agent requests one HTTP session holds open: received and not yet answered (any method, not
 * only tools/call). Without a bound an authenticated agent could hold any number open at once on
 * one session, each with its own answer stream, progress route and upstream request.
 *
 * Counted are: requests admitted by the listener whose POST the transport is still handing over
 * (`reserve`, so simultaneous POSTs cannot all pass one check), requests the session received and
 * has neither answered nor dropped (cancelled by the agent, or abandoned before forwarding), and
 * requests the agent cancelled after they were forwarded while the upstream may still run them
 * (until their late answer, their timeout or the upstream connection's end).
 */
export class RequestsInFlight {
  private readonly ids = new Set<RpcId>();
  private reserved = 0;
  private draining = 0;

  constructor(readonly limit: number) {}

  /** Requests counted against the limit now. */
  get count(): number {
    return this.ids.size + this.reserved + this.draining;
  }

  /**
   * A POST carrying a request arrives: 'full' at the limit; else a place is held until the
   * transport has handed the request to the session (call `unreserve` once that is over).
   */
  reserve(): 'ok' | 'full' {
    if (this.count >= this.limit) return 'full';
    this.reserved += 1;
    return 'ok';
  }

  unreserve(): void {
    this.reserved = Math.max(0, this.reserved - 1);
  }

  /**
   * The session received request `id`. 'duplicate' when a request under that id is still open:
   * JSON-RPC ids are unique per session, and one answer for two requests would leave one counted
   * forever, or free the other while it still runs.
   */
  received(id: RpcId): 'ok' | 'duplicate' {
    if (this.ids.has(id)) return 'duplicate';
    this.ids.add(id);
    return 'ok';
  }

  /** Request `id` was answered, or will never be (cancelled, abandoned). Idempotent. */
  ended(id: RpcId): void {
    this.ids.delete(id);
  }

  /** A forwarded request was cancelled but may still run upstream: it counts until `drained`. */
  drainStarted(): void {
    this.draining += 1;
  }

  drained(): void {
    this.draining = Math.max(0, this.draining - 1);
  }
}
