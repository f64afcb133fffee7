import type { ToolDefinition } from '../core/tool-call.js';
import { RPC, type RpcResponse } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';
import { serialisedSize } from './tool-listing-budget.js';
import type { UpstreamConnection } from './upstream-connection.js';

/** Whether a called tool is one the upstream lists. */
export type ToolLookup =
  | { readonly kind: 'listed' }
  | { readonly kind: 'unknown' }
  /** The listing itself failed: the call is answered with this error, never forwarded. */
  | { readonly kind: 'error'; readonly code: number; readonly message: string; readonly data?: unknown };

const MAX_PAGES = 100;
const listings = new WeakMap<ProxySession, Map<string, Promise<ToolLookup>>>();

/**
 * Checks a called name against what the upstream lists (exact match). A hidden tool is answered
 * `-32602 Unknown tool`; an unknown one must get the very same answer from warden, not the
 * upstream's own (often a tool result), or an agent could tell hidden tools from missing ones.
 * When this session has not listed the tool (agents may call without listing, or the upstream
 * added it since), warden lists the upstream itself, once per concurrent miss.
 */
export async function lookupTool(session: ProxySession, upstream: UpstreamConnection, tool: string): Promise<ToolLookup> {
  if (session.toolDefinitions.get(upstream.name)?.has(tool)) return { kind: 'listed' };
  let perSession = listings.get(session);
  if (!perSession) listings.set(session, (perSession = new Map()));
  let listing = perSession.get(upstream.name);
  if (!listing) {
    listing = listAll(session, upstream).finally(() => perSession!.delete(upstream.name));
    perSession.set(upstream.name, listing);
  }
  const outcome = await listing;
  if (outcome.kind === 'error') return outcome;
  return session.toolDefinitions.get(upstream.name)?.has(tool) ? { kind: 'listed' } : { kind: 'unknown' };
}

async function listAll(session: ProxySession, upstream: UpstreamConnection): Promise<ToolLookup> {
  const listed = await listWhole(session, upstream, 'tools/list', 'tools');
  if (listed.kind === 'error') return listed;
  const tools = listed.items as unknown as ToolDefinition[];
  session.toolDefinitions.set(upstream.name, new Map(tools.map((t) => [t.name, t])));
  session.definitionsListed(upstream, 'tools', tools);
  session.safely(() => session.opts.guard.onToolsListed?.(upstream.name, tools));
  return { kind: 'listed' };
}

/** Every item of an upstream's listing (all pages, those with a string name), or why it failed. */
export type WholeListing = { readonly kind: 'listed'; readonly items: ReadonlyArray<{ readonly name: string; readonly [field: string]: unknown }> } | Extract<ToolLookup, { kind: 'error' }>;

/**
 * Lists everything an upstream offers of one kind (`tools/list`, `prompts/list`, ...), warden's own
 * request, following cursors up to MAX_PAGES and no more than one message's bytes in all.
 */
export async function listWhole(session: ProxySession, upstream: UpstreamConnection, method: string, field: string): Promise<WholeListing> {
  const items: Array<{ readonly name: string; readonly [field: string]: unknown }> = [];
  let cursor: string | undefined;
  // What the pages held so far weigh: one listing may hold no more than one message may, or an
  // upstream paging without end would have warden keep MAX_PAGES times limits.maxUpstreamMessageBytes.
  let bytes = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await new Promise<RpcResponse>((resolve) =>
      upstream.request(method, cursor === undefined ? {} : { cursor }, session.opts.timeouts.requestMs, resolve),
    );
    if (response.error) return { kind: 'error', code: response.error.code, message: response.error.message, data: response.error.data };
    const result = response.result;
    bytes += serialisedSize(result?.[field]);
    if (bytes > session.opts.maxUpstreamMessageBytes) {
      // Fail closed: an incomplete listing cannot say whether the item is offered.
      return { kind: 'error', code: RPC.internalError, message: `upstream '${upstream.name}' lists ${field} beyond ${session.opts.maxUpstreamMessageBytes} bytes in all` };
    }
    // A loop, not push(...): spreading a page of ~120,000 items as arguments overflows the stack.
    const list = result?.[field];
    if (Array.isArray(list)) for (const t of list as Array<{ name?: unknown }>) if (typeof t?.name === 'string') items.push(t as { name: string });
    cursor = typeof result?.nextCursor === 'string' ? result.nextCursor : undefined;
    if (cursor === undefined) break;
  }
  return { kind: 'listed', items };
}
