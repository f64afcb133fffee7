import { failureSourceKey } from '../control/source-key.js';

/** Why a request gets no slot: its address holds its share (429), or the receiver is full (503). */
export type SlotRefusal = { readonly status: 429 | 503; readonly description: string };

/** A request's place while it is received and processed; `release` is idempotent. */
export interface RequestSlot {
  release(): void;
}

/**
 * Requests the SET receiver handles at once, in all and per source address. Without push
 * authorization anyone who reaches the port may send to it, and while a body is read it holds up
 * to `maxBodyBytes`: with no cap, many slow bodies (each within the request timeout) held memory
 * without bound until warden, which enforces every agent's calls, ran out of it. With the cap the
 * receiver holds at most `max × maxBodyBytes` of bodies; the per-address share keeps a single
 * sender from taking every slot from the transmitter. An IPv6 sender counts for its /64, as on the
 * control API (failureSourceKey): one host is routinely given a whole /64, so per address it could
 * take every slot by sending from `max / maxPerSource` of its addresses. The map holds only
 * sources with a request in flight, so it never has more than `max` entries.
 */
export class RequestSlots {
  private total = 0;
  private readonly bySource = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly maxPerSource: number,
  ) {}

  /** A place for a request from `remoteAddress` (undefined: not known, e.g. a closed socket). */
  take(remoteAddress: string | undefined): { readonly ok: true; readonly slot: RequestSlot } | ({ readonly ok: false } & SlotRefusal) {
    const source = failureSourceKey(remoteAddress);
    const mine = this.bySource.get(source) ?? 0;
    if (mine >= this.maxPerSource) {
      return { ok: false, status: 429, description: `more than ${this.maxPerSource} requests from this address at once` };
    }
    if (this.total >= this.max) return { ok: false, status: 503, description: `the receiver is handling ${this.max} requests; try again later` };
    this.total += 1;
    this.bySource.set(source, mine + 1);
    let released = false;
    return {
      ok: true,
      slot: {
        release: () => {
          if (released) return;
          released = true;
          this.total -= 1;
          const left = (this.bySource.get(source) ?? 1) - 1;
          if (left > 0) this.bySource.set(source, left);
          else this.bySource.delete(source);
        },
      },
    };
  }

  /** Requests in flight now (for tests of the bound). */
  get inFlight(): number {
    return this.total;
  }
}
