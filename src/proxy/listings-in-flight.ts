import type { ProxySession } from './proxy-session.js';
import type { UpstreamConnection } from './upstream-connection.js';

/**
 * One listing of an upstream at a time per session: a burst of requests that each need the
 * upstream listed (prompts/get of unlisted names, reads through unjudged templates) must not each
 * cost the upstream a full listing. Those that come while one is under way share its outcome; the
 * next miss after it settles lists again. One instance per kind of listing (prompts, templates).
 */
export class ListingsInFlight<T> {
  private readonly bySession = new WeakMap<ProxySession, Map<string, Promise<T>>>();

  /** The listing of `upstream` under way in `session`, or a new one that `list` starts. */
  join(session: ProxySession, upstream: UpstreamConnection, list: () => Promise<T>): Promise<T> {
    let perSession = this.bySession.get(session);
    if (!perSession) this.bySession.set(session, (perSession = new Map()));
    let listing = perSession.get(upstream.name);
    if (!listing) {
      const started = list().finally(() => perSession.delete(upstream.name));
      perSession.set(upstream.name, started);
      listing = started;
    }
    return listing;
  }
}
