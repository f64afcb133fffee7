import { RPC, type RpcResponse } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';

/** Serialised bytes of each upstream's tools listing recorded so far, per session (since its first page). */
const recorded = new WeakMap<ProxySession, Map<string, number>>();

/**
 * Bounds what one session records of one upstream's tools listing when the agent pages through
 * it: every page is kept (the guard judges calls against it) until the agent lists from the start
 * again, so an upstream answering endless pages of fresh tools to an agent that follows every
 * cursor grew the session (and the process every session shares) without end. Like warden's own
 * lookup listing (known-tools.ts), one listing may hold no more than one message may,
 * `limits.maxUpstreamMessageBytes`; the page that would pass it is refused as a whole, `-32603`,
 * and nothing of it is recorded or relayed (fail closed: it could not be judged).
 */
export function pageWithinBudget(session: ProxySession, upstream: string, first: boolean, page: RpcResponse): RpcResponse {
  if (page.error) return page;
  let perUpstream = recorded.get(session);
  if (!perUpstream) recorded.set(session, (perUpstream = new Map()));
  const before = first ? 0 : (perUpstream.get(upstream) ?? 0);
  const total = before + serialisedSize(page.result?.tools);
  const limit = session.opts.maxUpstreamMessageBytes;
  if (total <= limit) {
    perUpstream.set(upstream, total);
    return page;
  }
  perUpstream.set(upstream, before);
  return { jsonrpc: '2.0', id: page.id, error: { code: RPC.internalError, message: `upstream '${upstream}' lists tools beyond ${limit} bytes in all` } };
}

/** Serialised size of a listing's tools; past the stack (extreme nesting) it counts as unbounded. */
export function serialisedSize(tools: unknown): number {
  try {
    return JSON.stringify(tools)?.length ?? 0;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
