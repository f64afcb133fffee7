import type { ServerResponse } from 'node:http';
import type { RpcId } from './json-rpc.js';

/** The reason an abandoned call's signal carries (audited on a withdrawn approval). */
export const ABANDONED_REASON = 'agent closed the response stream';

/** Marks remembered for calls abandoned before they reached judging; per session. */
const MAX_MARKS = 1_024;

/**
 * Tells the session a request was abandoned; returns false when it does not hold the request yet
 * (it is still being looked up or authenticated), so the mark must wait for it.
 */
export type AbandonHandler = (id: RpcId) => boolean;

/**
 * Which requests of one HTTP session the agent can no longer receive an answer to.
 *
 * Over Streamable HTTP the answer to a request travels on the response to the POST that carried
 * it, and warden keeps no event store, so a stream the agent closed (its process exited, the SDK's
 * `close()` aborted the fetch, the socket dropped) can never be resumed: whatever happens to the
 * call afterwards reaches nobody. The SDK client does not reliably send `notifications/cancelled`
 * first (it gives up at its own request timeout, and `close()` aborts that notification's POST
 * too), so warden treats the closed stream as the cancel for a call that is not forwarded yet: a
 * pending approval is withdrawn, a throttled wait abandoned, and nothing is forwarded afterwards.
 * (A call already forwarded runs to its end upstream, as the spec asks of a mere disconnection;
 * its answer is dropped.)
 */
export class AbandonedCalls {
  /** Requests received over POST and not answered yet. */
  private readonly open = new Set<RpcId>();
  /** Abandoned before the session held them; consumed by {@link take}. Insertion-ordered (oldest first). */
  private readonly marks = new Set<RpcId>();

  constructor(private readonly onAbandon: AbandonHandler) {}

  /** Request `id` is being served on `res`: watch for its stream closing before the answer. */
  watch(id: RpcId, res: ServerResponse): void {
    this.open.add(id);
    res.once('close', () => {
      // Answered (the id left `open`), or the stream ended normally: nothing was abandoned.
      if (!this.open.delete(id) || res.writableFinished) return;
      if (this.onAbandon(id)) return;
      this.marks.add(id);
      if (this.marks.size > MAX_MARKS) this.marks.delete(this.marks.values().next().value as RpcId);
    });
  }

  /** The answer to `id` was handed to the transport. */
  answered(id: RpcId): void {
    this.open.delete(id);
    this.marks.delete(id);
  }

  /** True once if `id` was abandoned before the session held it. */
  take(id: RpcId): boolean {
    return this.marks.delete(id);
  }
}
