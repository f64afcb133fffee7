import type { HttpListen } from '../config/config-schema.js';

/** Why a body could not be read further: the caller's share or warden's whole budget is held. */
export type BodyBudgetRefusal = { readonly status: 429 | 503; readonly message: string };

/** One body being read: takes bytes from the budget as they arrive, gives them all back once. */
export interface BodyLease {
  /** Counts `bytes` more of this body; a refusal when that would pass a limit (nothing is counted then). */
  take(bytes: number): BodyBudgetRefusal | undefined;
  /** The body was read (or given up): its bytes leave the budget. Idempotent. */
  release(): void;
}

/**
 * What the HTTP listener holds of request bodies still being read, per principal and in all.
 * `maxBodyBytes` bounds one body, but not how many arrive at once: a caller opening many POSTs and
 * never finishing them held a full body per connection (no session needed) until warden, the
 * proxy of every agent, ran out of memory. Bodies therefore count like sessions: a principal may
 * hold `maxBodyBytes × maxSessionsPerPrincipal` (429 beyond: its share), warden
 * `maxBodyBytes × maxSessions` (503 beyond). A single body up to `maxBodyBytes` always fits a
 * principal that has nothing else being read.
 */
export class BodyBudget {
  private total = 0;
  private readonly held = new Map<string, number>();
  private readonly perPrincipal: number;
  private readonly all: number;

  constructor(listen: Pick<HttpListen, 'maxBodyBytes' | 'maxSessions' | 'maxSessionsPerPrincipal'>) {
    this.perPrincipal = listen.maxBodyBytes * listen.maxSessionsPerPrincipal;
    this.all = listen.maxBodyBytes * listen.maxSessions;
  }

  /** Starts counting one body of `owner` (a principalKey). */
  lease(owner: string): BodyLease {
    let mine = 0;
    let released = false;
    return {
      take: (bytes) => {
        if (released) return undefined;
        const ownerHeld = this.held.get(owner) ?? 0;
        if (ownerHeld + bytes > this.perPrincipal) {
          return { status: 429, message: `too much request data being received for this principal at once (limit ${this.perPrincipal} bytes); finish or close other requests` };
        }
        if (this.total + bytes > this.all) {
          return { status: 503, message: `warden is receiving too much request data at once (limit ${this.all} bytes); try again later` };
        }
        mine += bytes;
        this.total += bytes;
        this.held.set(owner, ownerHeld + bytes);
        return undefined;
      },
      release: () => {
        if (released) return;
        released = true;
        this.total -= mine;
        const left = (this.held.get(owner) ?? 0) - mine;
        if (left > 0) this.held.set(owner, left);
        else this.held.delete(owner);
      },
    };
  }
}
