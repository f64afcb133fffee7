import type { ProxySession } from './proxy-session.js';

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
 * An agent's unsubscribe of the URI while the subscribe is at the upstream withdraws it: the
 * upstream got the unsubscribe after the subscribe, so a success answered after it is not remembered.
 */
export class SubscribeAttempt {
  #state: 'judging' | 'forwarded' | 'over' = 'judging';
  #withdrawn = false;
  #judgedUnder: string | undefined;

  constructor(
    private readonly session: ProxySession,
    readonly upstream: string,
    readonly uri: string,
  ) {
    session.subscribing.add(this);
  }

  /** A forward verdict sends it now; `judgedUnder` is the policy in force (its hash). */
  forwarded(judgedUnder: string | undefined): void {
    if (this.#state !== 'judging') return;
    this.#state = 'forwarded';
    this.#judgedUnder = judgedUnder;
  }

  /** The agent unsubscribed the URI at this upstream: a success answered later is not remembered. */
  withdraw(): void {
    if (this.#state === 'forwarded') this.#withdrawn = true;
  }

  /** The upstream answered (or warden stopped waiting). Runs once; never throws. */
  answered(answer: SubscribeAnswer): void {
    if (this.#state !== 'forwarded') return;
    this.#end();
    const session = this.session;
    if (session.isClosed) return;
    const held = session.subscriptions.get(this.uri);
    if (answer === 'ok') {
      if (!this.#withdrawn) session.subscriptions.set(this.uri, { upstream: this.upstream, judgedUnder: this.#judgedUnder });
      return;
    }
    if (answer === 'unknown' && !this.#withdrawn && held?.upstream !== this.upstream) this.unsubscribeUpstream();
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
