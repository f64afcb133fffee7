/** One admitted request's bytes, counted against its principal until `release`. */
export interface RequestCharge {
  readonly bytes: number;
  /** The request ended (answered, dropped, refused, its session gone): its bytes leave the budget. Idempotent. */
  release(): void;
}

/** Which bound a charge would pass: the principal's share (429) or warden's whole budget (503). */
export type ChargeRefused = 'principal' | 'overall';

/**
 * What the HTTP listener holds of admitted request bodies, per principal across all its sessions,
 * and over all principals together.
 *
 * `maxRequestsInFlightPerSession` bounds how many requests a session holds unanswered, not how
 * large they are: each keeps its parsed body (up to `maxBodyBytes`, parsed JSON taking ~19× its
 * size), so one principal filling its sessions with large calls that wait (for a human approval,
 * a hung upstream) held several GB. Each request is charged its body's size when it is admitted
 * and released once when it ends; a request that would pass `limit` (its principal's share) or
 * `overallLimit` (everyone's, so many principals each within their share cannot exhaust warden
 * together) is refused instead.
 *
 * A single body up to `maxBodyBytes` always fits when nothing else is in flight (the config refuses
 * either limit below `maxBodyBytes`, so every legal body can be admitted).
 */
export class RequestBytesInFlight {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(
    readonly limit: number,
    readonly overallLimit: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Bytes `owner` (a principalKey) holds in flight now. */
  heldBy(owner: string): number {
    return this.held.get(owner) ?? 0;
  }

  /** Bytes every principal together holds in flight now. */
  get heldOverall(): number {
    return this.total;
  }

  /** Charges `bytes` to `owner`; which bound it would pass (nothing charged) when it does not fit. */
  charge(owner: string, bytes: number): RequestCharge | ChargeRefused {
    const before = this.heldBy(owner);
    if (before + bytes > this.limit) return 'principal';
    if (this.total + bytes > this.overallLimit) return 'overall';
    this.held.set(owner, before + bytes);
    this.total += bytes;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.total -= bytes;
        const left = this.heldBy(owner) - bytes;
        // Deleted at zero: a map entry per principal ever seen would itself grow without bound.
        if (left > 0) this.held.set(owner, left);
        else this.held.delete(owner);
      },
    };
  }
}
