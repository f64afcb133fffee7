/** One admitted request's bytes, counted against its principal until `release`. */
export interface RequestCharge {
  readonly bytes: number;
  /** The request ended (answered, dropped, refused, its session gone): its bytes leave the budget. Idempotent. */
  release(): void;
}

/**
 * What the HTTP listener holds of admitted request bodies, per principal across all its sessions.
 *
 * `maxRequestsInFlightPerSession` bounds how many requests a session holds unanswered, not how
 * large they are: each keeps its parsed body (up to `maxBodyBytes`, parsed JSON taking ~19× its
 * size), so one principal filling its sessions with large calls that wait (for a human approval,
 * a hung upstream) held several GB. Each request is charged its body's size when it is admitted
 * and released once when it ends; a request that would pass `limit` is refused instead.
 *
 * A single body up to `limit` always fits a principal with nothing in flight (the config refuses a
 * limit below `maxBodyBytes`, so every legal body can be admitted).
 */
export class RequestBytesInFlight {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Bytes `owner` (a principalKey) holds in flight now. */
  heldBy(owner: string): number {
    return this.held.get(owner) ?? 0;
  }

  /** Charges `bytes` to `owner`; undefined (nothing charged) when that would pass the limit. */
  charge(owner: string, bytes: number): RequestCharge | undefined {
    const before = this.heldBy(owner);
    if (before + bytes > this.limit) return undefined;
    this.held.set(owner, before + bytes);
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        const left = this.heldBy(owner) - bytes;
        // Deleted at zero: a map entry per principal ever seen would itself grow without bound.
        if (left > 0) this.held.set(owner, left);
        else this.held.delete(owner);
      },
    };
  }
}
