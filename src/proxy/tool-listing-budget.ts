import { RPC, type RpcResponse } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';

/** Serialised bytes of each upstream's listing (per list field) recorded so far, per session (since its first page). */
const recorded = new WeakMap<ProxySession, Map<string, number>>();

/**
 * Bounds what one session records of one upstream's listing of `field` (tools, prompts, resource
 * templates) when the agent pages through it: every page is kept (the guard judges calls against
 * it; the definitions are compared with the next listing, definition-changes.ts; the pins hold the
 * listing in progress) until the agent lists from the start again, so an upstream answering
 * endless pages of fresh names to an agent that follows every cursor grew the session (and the
 * process every session shares) without end. Like warden's own listings (known-tools.ts), one
 * listing may hold no more than one message may, `limits.maxUpstreamMessageBytes`; the page that
 * would pass it is refused as a whole, `-32603`, and nothing of it is recorded or relayed (fail
 * closed: it could not be judged).
 */
export function pageWithinBudget(session: ProxySession, upstream: string, field: string, first: boolean, page: RpcResponse): RpcResponse {
  if (page.error) return page;
  let perListing = recorded.get(session);
  if (!perListing) recorded.set(session, (perListing = new Map()));
  const key = `${field}\u0000${upstream}`;
  const before = first ? 0 : (perListing.get(key) ?? 0);
  const total = before + serialisedSize(page.result?.[field]);
  const limit = session.opts.maxUpstreamMessageBytes;
  if (total <= limit) {
    perListing.set(key, total);
    return page;
  }
  perListing.set(key, before);
  return { jsonrpc: '2.0', id: page.id, error: { code: RPC.internalError, message: `upstream '${upstream}' lists ${field} beyond ${limit} bytes in all` } };
}

/** Serialised size of a listing's tools; past the stack (extreme nesting) it counts as unbounded. */
export function serialisedSize(tools: unknown): number {
  try {
    return JSON.stringify(tools)?.length ?? 0;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
