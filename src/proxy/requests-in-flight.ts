import type { RpcId } from './json-rpc.js';
import type { RequestCharge } from './request-bytes-in-flight.js';

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
 *
 * Each request may carry the charge of its body's bytes against its principal's budget (see
 * request-bytes-in-flight.ts): it is released exactly once, when the request stops counting here,
 * or when the session closes. A charge the session never takes up (the transport refused the POST,
 * a duplicate id) is released by the listener once the POST is handed over.
 */
export class RequestsInFlight {
  /** Requests received and open, with the charge of each (none when admitted without one). */
  private readonly ids = new Map<RpcId, RequestCharge | undefined>();
  /** Charges of admitted requests the session has not received yet, by request id, oldest first. */
  private readonly expected = new Map<RpcId, RequestCharge[]>();
  /** Cancelled requests the upstream may still run; each keeps its charge (its body is still referenced). */
  private readonly drains = new Set<{ charge: RequestCharge | undefined }>();
  private reserved = 0;
  private closed = false;

  constructor(readonly limit: number) {}

  /** Requests counted against the limit now. */
  get count(): number {
    return this.ids.size + this.reserved + this.drains.size;
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

  /** The listener admitted request `id` with `charge`: the session takes it up when it receives the request. */
  expect(id: RpcId, charge: RequestCharge): void {
    if (this.closed) return charge.release();
    const waiting = this.expected.get(id);
    if (waiting) waiting.push(charge);
    else this.expected.set(id, [charge]);
  }

  /**
   * The transport is done with the POST that carried request `id`: a charge the session did not
   * take up (the request never reached it, or was refused as a duplicate) is released now.
   */
  handedOver(id: RpcId, charge: RequestCharge): void {
    const waiting = this.expected.get(id);
    const at = waiting?.indexOf(charge) ?? -1;
    if (waiting && at !== -1) {
      waiting.splice(at, 1);
      if (waiting.length === 0) this.expected.delete(id);
    }
    // Released unless the session holds it (idempotent when it was released already).
    if (at !== -1) charge.release();
  }

  /** True while a request under `id` is admitted or received and not ended (a reuse would be a duplicate). */
  holds(id: RpcId): boolean {
    return this.ids.has(id) || this.expected.has(id);
  }

  /**
   * The session received request `id`. 'duplicate' when a request under that id is still open:
   * JSON-RPC ids are unique per session, and one answer for two requests would leave one counted
   * forever, or free the other while it still runs.
   */
  received(id: RpcId): 'ok' | 'duplicate' {
    if (this.ids.has(id)) return 'duplicate';
    const charge = this.takeExpected(id);
    // A closed session never ends its requests one by one: nothing may stay charged to it.
    if (this.closed) charge?.release();
    else this.ids.set(id, charge);
    return 'ok';
  }

  /** Request `id` was answered, or will never be (cancelled, abandoned). Idempotent. */
  ended(id: RpcId): void {
    const charge = this.ids.get(id);
    if (!this.ids.delete(id)) return;
    charge?.release();
  }

  /**
   * Forwarded request `id` is being cancelled but may still run upstream: it no longer holds its
   * id (the agent may reuse it), yet it counts, and keeps its charge, until the returned function
   * runs (its late answer, its timeout, the upstream connection's end). Idempotent.
   */
  drainStarted(id: RpcId): () => void {
    const drain = { charge: this.ids.get(id) };
    this.ids.delete(id);
    if (this.closed) {
      drain.charge?.release();
      return () => undefined;
    }
    this.drains.add(drain);
    return () => {
      if (!this.drains.delete(drain)) return;
      drain.charge?.release();
    };
  }

  /**
   * The session closed: its requests will never end one by one (nor be answered), so every charge
   * is released now, and any taken up later at once.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const charge of this.ids.values()) charge?.release();
    for (const waiting of this.expected.values()) for (const charge of waiting) charge.release();
    for (const drain of this.drains) drain.charge?.release();
    this.ids.clear();
    this.expected.clear();
    this.drains.clear();
  }

  private takeExpected(id: RpcId): RequestCharge | undefined {
    const waiting = this.expected.get(id);
    const charge = waiting?.shift();
    if (waiting?.length === 0) this.expected.delete(id);
    return charge;
  }
}
