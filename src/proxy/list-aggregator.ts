import type { ListedDefinition, ListedKind, ToolDefinition } from '../core/tool-call.js';
import { errorResponse, RPC, type RpcRequest, type RpcResponse } from './json-rpc.js';
import { decodeCursor, encodeCursor } from './namespacing.js';
import type { ProxySession } from './proxy-session.js';
import { pageWithinBudget } from './tool-listing-budget.js';
import type { UpstreamConnection } from './upstream-connection.js';

export interface ListKind {
  readonly field: 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
  readonly capability: 'tools' | 'prompts' | 'resources';
  /**
   * Prompts and resource templates: pinned like tools (their text reaches the model). Concrete
   * resources are not: files come and go all the time, and what they hold is data, like a result.
   */
  readonly pinned?: ListedKind;
}

export const LIST_KINDS: Readonly<Record<string, ListKind>> = {
  'tools/list': { field: 'tools', capability: 'tools' },
  'prompts/list': { field: 'prompts', capability: 'prompts', pinned: 'prompt' },
  'resources/list': { field: 'resources', capability: 'resources' },
  'resources/templates/list': { field: 'resourceTemplates', capability: 'resources', pinned: 'resourceTemplate' },
};

type Item = Record<string, unknown>;

/**
 * Answers a list request. One upstream: its page and cursor pass through (tools, prompts and
 * resource templates still go through the guard's filter). Several: each page fans out to every upstream that still has items, names
 * are namespaced, and the cursor is a composite of each upstream's own cursor.
 */
export async function listAcrossUpstreams(session: ProxySession, request: RpcRequest, kind: ListKind): Promise<void> {
  const params = request.params ?? {};
  const cursor = typeof params.cursor === 'string' ? params.cursor : undefined;
  let plan: Array<[UpstreamConnection, string | undefined]>;
  if (!session.namespacer.multi) {
    plan = [[session.connections[0]!, cursor]];
  } else if (cursor !== undefined) {
    const decoded = decodeCursor(cursor, session.connections.map((c) => c.name));
    if (!decoded) {
      session.toAgent(errorResponse(request.id, RPC.invalidParams, 'invalid cursor'));
      return;
    }
    plan = Object.entries(decoded).map(([name, c]) => [session.connection(name)!, c]);
  } else {
    plan = session.connections.filter((c) => c.capabilities[kind.capability] !== undefined).map((c) => [c, undefined]);
  }
  // The upstream session each page is asked of: one that restarts before every page is in must
  // not have its old process's tools recorded as the new one's listing (see recordTools).
  const generations = plan.map(([upstream]) => upstream.generation);
  // Likewise where each upstream's prompts stood when asked (see PromptsJudged).
  const promptStamps = plan.map(([upstream]) => session.promptsJudged.stamp(upstream));
  const fetched = await Promise.all(plan.map(([upstream, c]) => fetchPage(session, request, upstream, c)));
  // What is recorded of a listing (tools, prompts, templates) is bounded; of concrete resources only
  // their routes are kept, in an OwnerMap with its own bound.
  const bounded = kind.field === 'tools' || kind.pinned !== undefined;
  const pages = !bounded ? fetched : fetched.map((page, i) => pageWithinBudget(session, plan[i]![0].name, kind.field, plan[i]![1] === undefined, page));
  const failed = pages.find((p) => p.error);
  if (failed?.error && (!session.namespacer.multi || pages.every((p) => p.error))) {
    session.toAgent(errorResponse(request.id, failed.error.code, failed.error.message, failed.error.data));
    return;
  }
  let items: Item[] = [];
  const remaining: Record<string, string> = {};
  for (const [index, page] of pages.entries()) {
    if (page.error) continue;
    const upstream = plan[index]![0];
    const list = Array.isArray(page.result?.[kind.field]) ? (page.result![kind.field] as unknown[]) : [];
    // concat, not push(...): spreading a page of ~120,000 entries as arguments overflows the stack.
    const next = page.result?.nextCursor;
    const stale = upstream.generation !== generations[index];
    items = items.concat(exposeItems(session, upstream, kind, list, { first: plan[index]![1] === undefined, last: typeof next !== 'string' }, stale));
    // A whole listing of the running process's prompts was judged just now (not stale): a
    // prompts/get need not list them again. Pages are not a whole listing here; the get lists.
    if (kind.pinned === 'prompt' && !stale && plan[index]![1] === undefined && typeof next !== 'string') session.promptsJudged.listed(upstream, promptStamps[index]!);
    if (typeof next === 'string') remaining[upstream.name] = next;
  }
  if (kind.field === 'tools' || kind.pinned) {
    const filtered = filterListed(session, request, kind, items);
    if (!filtered) return;
    items = filtered;
  }
  const result: Record<string, unknown> = session.namespacer.multi ? {} : { ...pages[0]!.result };
  result[kind.field] = items;
  const nextCursor = session.namespacer.multi ? encodeCursor(remaining) : remaining[plan[0]![0].name];
  if (nextCursor !== undefined) result.nextCursor = nextCursor;
  else delete result.nextCursor;
  session.toAgent({ jsonrpc: '2.0', id: request.id, result });
}

function fetchPage(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, cursor: string | undefined): Promise<RpcResponse> {
  const { cursor: _ignored, ...rest } = request.params ?? {};
  const params = cursor === undefined ? rest : { ...rest, cursor };
  return new Promise((resolve) => upstream.request(request.method, params, session.opts.timeouts.requestMs, resolve));
}

function exposeItems(session: ProxySession, upstream: UpstreamConnection, kind: ListKind, listed: unknown[], page: ListedPage, stale: boolean): Item[] {
  // An entry that is not an object (null, a number) names nothing: left out, like a bad name,
  // instead of failing the whole answer (and, with several upstreams, every upstream's items).
  const list = listed.filter((item): item is Item => typeof item === 'object' && item !== null && !Array.isArray(item));
  if (kind.field === 'resources') {
    for (const r of list) if (typeof r.uri === 'string') session.resourceOwners.set(r.uri, upstream.name);
    return list;
  }
  if (kind.field === 'resourceTemplates') {
    for (const t of list) if (typeof t.uriTemplate === 'string') session.templateOwners.set(t.uriTemplate.split('{')[0]!, upstream.name);
  }
  // A page from a process that has since been replaced says nothing about the running one: not
  // recorded, so the next call to one of its tools lists the upstream afresh (and pins see it).
  // Nor forwarded: the pins never judged these definitions (the filter would judge them by the
  // last recorded listing), so a server could get a changed description to the model by exiting
  // right after answering. Fail closed: the agent lists again and gets the running process's tools.
  if ((kind.field === 'tools' || kind.pinned) && stale) return [];
  if (kind.field === 'tools') recordTools(session, upstream, list as unknown as ToolDefinition[], page);
  else if (kind.pinned) recordDefinitions(session, upstream, kind.pinned, list, page);
  const out: Item[] = [];
  for (const item of list) {
    if (typeof item.name !== 'string') continue;
    const exposed = session.namespacer.expose(upstream.name, item.name);
    if (!exposed.ok) {
      // Never guess: a name that cannot be exposed unambiguously is left out and logged.
      session.opts.logger.error({ upstream: upstream.name, error: exposed.error }, `${kind.field} entry omitted`);
      continue;
    }
    out.push(exposed.exposed === item.name ? item : { ...item, name: exposed.exposed });
  }
  return out;
}

/** Where a page sits in the upstream's listing (pins trust a first listing across all its pages). */
interface ListedPage {
  readonly first: boolean;
  readonly last: boolean;
}

function recordTools(session: ProxySession, upstream: UpstreamConnection, tools: ToolDefinition[], page: ListedPage): void {
  let defs = session.toolDefinitions.get(upstream.name);
  if (!defs || page.first) {
    defs = new Map();
    session.toolDefinitions.set(upstream.name, defs);
  }
  for (const t of tools) if (typeof t.name === 'string') defs.set(t.name, t);
  session.definitionsListed(upstream, 'tools', tools, page.first);
  session.safely(() => session.opts.guard.onToolsListed?.(upstream.name, tools, page));
}

/** Reports a page of prompts or resource templates to the guard (pins), as recordTools does tools. */
function recordDefinitions(session: ProxySession, upstream: UpstreamConnection, kind: ListedKind, list: readonly Item[], page: ListedPage): void {
  const defs = list.filter((d): d is Item & ListedDefinition => typeof d.name === 'string');
  session.definitionsListed(upstream, kind === 'prompt' ? 'prompts' : 'resources', defs, page.first);
  session.safely(() => session.opts.guard.onDefinitionsListed?.(kind, upstream.name, defs, page));
}

/**
 * The guard hides tools this principal may never call, and (pins) tools, prompts and resource
 * templates whose definition nobody accepted; it judges the answer recordTools (recordDefinitions)
 * just reported, in the same tick. A throwing filter hides the whole list (fail closed).
 */
function filterListed(session: ProxySession, request: RpcRequest, kind: ListKind, items: Item[]): Item[] | undefined {
  const visible = listFilter(session, kind);
  if (!visible) return items;
  try {
    return items.filter((item) => {
      const target = session.namespacer.resolve(String(item.name));
      // An item that cannot be routed back to its upstream cannot be judged: hide it.
      return target !== undefined && visible(target.upstream, target.name);
    });
  } catch (err) {
    session.opts.logger.error({ err: String(err), method: request.method }, 'guard list filter failed; list refused');
    session.toAgent(errorResponse(request.id, RPC.internalError, `${request.method} unavailable (internal)`));
    return undefined;
  }
}

/** Which of a list's items the guard lets through, by upstream and the upstream's own name. */
function listFilter(session: ProxySession, kind: ListKind): ((upstream: string, name: string) => boolean) | undefined {
  const guard = session.opts.guard;
  const pinned = kind.pinned;
  if (pinned) return guard.definitionListing && ((upstream, name) => guard.definitionListing!(pinned, upstream, name).listed);
  const principal = session.principal;
  if (!guard.isToolVisible || !principal) return undefined;
  return (upstream, name) => guard.isToolVisible!(principal, session.id, upstream, name);
}
