import type { StandingOccasion } from '../core/tool-call.js';
import type { ProxySession } from './proxy-session.js';
import { endRevokedTaken, recheckTaken, subscriptionKey, type HeldSubscription } from './standing-subscriptions.js';

/** How the upstream answered a forwarded subscribe: success, an error, or not known (timed out, cancelled). */
export type SubscribeAnswer = 'ok' | 'refused' | 'unknown';

/**
 * One `resources/subscribe` of the agent's, from its admission until the upstream answered it.
 *
 * A subscription is remembered (its updates relayed, re-sent to a restarted upstream) only once the
 * upstream answered success: remembered when warden forwarded it, one the upstream refused was
 * restored after a restart by warden on its own, and the agent got updates for a subscription it
 * was told had failed. One whose answer is not known (it timed out, the agent cancelled it) is not
 * remembered either, and warden sends `resources/unsubscribe` for it (the upstream may have taken
 * it), unless the session held it already (a re-subscribe: the standing one stays).
 *
 * An agent's unsubscribe of the URI while the subscribe is at the upstream withdraws it: a success
 * answered after it is not remembered. The upstream the unsubscribe went to got it after the
 * subscribe; another one (the URI's route moved meanwhile) is sent warden's own unsubscribe once
 * it answered, unless it refused.
 *
 * A re-check of the session's subscriptions (a reload, a security event, an upstream restart) or
 * a revocation while the subscribe is at the upstream finds nothing held to judge or end: the
 * attempt is told (rejudge, revoked), and a success answered after it is judged then, or ended.
 */
export class SubscribeAttempt {
  #state: 'judging' | 'forwarded' | 'over' = 'judging';
  #withdrawn: 'no' | 'sent' | 'owed' = 'no';
  #judgedUnder: string | undefined;
  #rejudge: StandingOccasion | undefined;
  #revokedBy: string | undefined;
  /** The session's key of the subscription it asks for (upstream and URI). */
  readonly key: string;

  constructor(
    private readonly session: ProxySession,
    readonly upstream: string,
    readonly uri: string,
  ) {
    this.key = subscriptionKey(upstream, uri);
    session.subscribing.add(this);
  }

  /** A forward verdict sends it now; `judgedUnder` is the policy in force (its hash). */
  forwarded(judgedUnder: string | undefined): void {
    if (this.#state !== 'judging') return;
    this.#state = 'forwarded';
    this.#judgedUnder = judgedUnder;
  }

  /**
   * The agent unsubscribed the URI: a success answered later is not remembered. `sentHere`: the
   * unsubscribe went to this attempt's upstream (after it); else warden owes that upstream one.
   */
  withdraw(sentHere: boolean): void {
    if (this.#state !== 'forwarded' || this.#withdrawn === 'sent') return;
    this.#withdrawn = sentHere ? 'sent' : 'owed';
  }

  /** The session's subscriptions were re-judged (`occasion`) while this one was at the upstream. */
  rejudge(occasion: StandingOccasion): void {
    if (this.#state === 'forwarded') this.#rejudge = occasion;
  }

  /** The caller was revoked (event `eventId`) while this one was at the upstream. */
  revoked(eventId: string): void {
    if (this.#state === 'forwarded') this.#revokedBy = eventId;
  }

  /** The upstream answered (or warden stopped waiting). Runs once; never throws. */
  answered(answer: SubscribeAnswer): void {
    if (this.#state !== 'forwarded') return;
    this.#end();
    const session = this.session;
    if (session.isClosed) return;
    if (answer === 'refused') return;
    if (this.#withdrawn === 'owed') this.unsubscribeUpstream();
    else if (this.#withdrawn === 'sent') return;
    else if (answer === 'ok') this.taken();
    else if (!session.subscriptions.has(this.key)) this.unsubscribeUpstream();
  }

  /** Held now; ended or judged again if the caller's standing changed while it was at the upstream. */
  private taken(): void {
    const held: HeldSubscription = { upstream: this.upstream, uri: this.uri, judgedUnder: this.#judgedUnder };
    this.session.subscriptions.set(this.key, held);
    if (this.#revokedBy !== undefined) endRevokedTaken(this.session, held, this.#revokedBy);
    else if (this.#rejudge !== undefined) void recheckTaken(this.session, held, this.#rejudge);
  }

  /** Judging ended without a forward (refused, answered by warden, cancelled): nothing was sent. */
  judged(): void {
    if (this.#state === 'judging') this.#end();
  }

  #end(): void {
    this.#state = 'over';
    this.session.subscribing.delete(this);
  }

  private unsubscribeUpstream(): void {
    const session = this.session;
    const upstream = session.connection(this.upstream);
    if (upstream === undefined) return;
    try {
      upstream.request('resources/unsubscribe', { uri: this.uri }, session.opts.timeouts.requestMs, ignore);
    } catch (err) {
      session.opts.logger.warn({ upstream: this.upstream, err: String(err) }, 'resources/unsubscribe could not be sent');
    }
  }
}

function ignore(): void {
  // the answer to a request warden sent on its own
}
