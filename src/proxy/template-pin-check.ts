import type { DefinitionListing } from '../core/tool-call.js';
import { refuseHeldDefinition } from './held-definition-refusal.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import { listWhole } from './known-tools.js';
import { ListingsInFlight } from './listings-in-flight.js';
import type { ProxySession } from './proxy-session.js';
import type { ListedTemplate } from './templates-judged.js';
import type { UpstreamConnection } from './upstream-connection.js';
import { spellPrefix, spellWhole, uriSpellings, type Spelt } from './uri-spellings.js';

/** Why a read, subscription or completion through a resource template is refused (`reason` of its `request.refused`). */
export type TemplateRefusal =
  | 'resourceTemplate.definition_changed'
  | 'resourceTemplate.new_unpinned'
  | 'resourceTemplate.poisoned_description'
  | 'resourceTemplate.unjudged';

const REFUSAL: Readonly<Record<Exclude<DefinitionListing, { listed: true }>['why'], TemplateRefusal>> = {
  changed: 'resourceTemplate.definition_changed',
  new: 'resourceTemplate.new_unpinned',
  poisoned: 'resourceTemplate.poisoned_description',
  unseen: 'resourceTemplate.unjudged',
};

/**
 * Longest URI (or uriTemplate) judged against an upstream's resource templates; a longer one is
 * refused when the upstream has any. RFC 9110 §4.1 asks senders and recipients to support 8000
 * octets; no honest resource needs more, and judging 4 MiB of `%25` took seconds.
 */
export const MAX_JUDGED_URI_CHARS = 8_000;

/**
 * How a request uses the upstream's resource templates: `read` a URI (resources/read) or
 * `subscribe` to one (resources/subscribe), which the templates whose fixed part it starts with
 * claim, or `complete` a template's variable (completion/complete of a `ref/resource`), naming
 * the template's `uriTemplate` itself. All are judged over the URI's spellings (uri-spellings.ts),
 * so `FILE:///etc/x` or `file:///tmp/../etc/x` is claimed by a held `file:///etc/{path}`.
 */
export interface TemplateUse {
  readonly how: 'read' | 'subscribe' | 'complete';
  /** The URI or uriTemplate the request names; not a string when it names none. */
  readonly uri: unknown;
}

/**
 * A resource template is pinned because its text reaches the model and its `uriTemplate` decides
 * which URIs the upstream claims. One the pins hold (changed, new, flagged) is left out of
 * resources/templates/list; reading a URI only it claims, subscribing to one (whose updates
 * invite reads through it), or completing its variables would still reach the upstream that
 * rewrote it, so all three are refused until `warden pins accept --template`. A URI this session
 * listed as a concrete resource of the upstream (resources/list) is a resource, not a template's,
 * and is read and subscribed to as before. A URI that a held and an accepted template both claim
 * is refused (fail closed: warden cannot tell which one the upstream serves it by).
 * Judged against a listing of the running process taken since its last
 * `notifications/resources/list_changed`: warden lists the templates itself otherwise. Calls
 * `forward` when the request may go on; otherwise answers -32602 and records `request.refused`.
 */
export async function useTemplateIfPinned(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, use: TemplateUse, forward: () => void): Promise<void> {
  const guard = session.opts.guard;
  if (!guard.definitionListing) return forward();
  const uri = use.uri;
  if (typeof uri !== 'string') {
    // Nothing the pins could judge the request by; the upstream might still serve it.
    session.toAgent(errorResponse(request.id, RPC.invalidParams, `${request.method} needs a URI`));
    return;
  }
  // Exact string only: the URI as the upstream itself listed it to this session.
  if (use.how !== 'complete' && session.resourceOwners.get(uri) === upstream.name) return forward();
  let templates = session.templatesJudged.current(upstream);
  if (templates === undefined) {
    const judged = await judgeTemplates(session, upstream);
    if (judged.kind === 'error') {
      session.toAgent(errorResponse(request.id, judged.code, judged.message, judged.data));
      return;
    }
    templates = session.templatesJudged.current(upstream);
    if (templates === undefined) {
      // The upstream restarted (or announced a change) while it was listed: not judged, not forwarded.
      session.toAgent(errorResponse(request.id, RPC.upstreamClosed, `upstream '${upstream.name}' changed its resource templates while warden listed them; send the request again`));
      return;
    }
  }
  if (templates.length > 0 && uri.length > MAX_JUDGED_URI_CHARS) {
    // Spelling out a URI costs time linear in its length but with a large constant (megabytes of
    // nested escapes take seconds of the event loop every session shares): refused unjudged.
    const subject = { uriLength: uri.length, limit: MAX_JUDGED_URI_CHARS };
    refuseHeldDefinition(session, request, upstream.name, subject, 'uri_too_long', `${request.method}: URI longer than ${MAX_JUDGED_URI_CHARS} characters`, { limit: MAX_JUDGED_URI_CHARS });
    return;
  }
  const spellings = uriSpellings(uri);
  for (const template of templates) {
    // Fail closed: a URI (or uriTemplate) that some spelling puts under a held template is its.
    // A template too long to spell out (an upstream's megabytes of escapes would cost every read
    // seconds of the shared event loop) is taken to claim every URI.
    const claims = template.uriTemplate.length > MAX_JUDGED_URI_CHARS || (use.how === 'complete' ? spellings.same(speltOf(template).whole) : spellings.under(speltOf(template).fixed));
    if (!claims) continue;
    const listing = guard.definitionListing('resourceTemplate', upstream.name, template.name);
    if (listing.listed) continue;
    const reason = REFUSAL[listing.why];
    refuseHeldDefinition(session, request, upstream.name, { uri, resourceTemplate: template.name }, reason, message(template.name, uri, reason));
    return;
  }
  forward();
}

/** Each listed template spelt out once per listing (the objects live as long as their listing). */
const spelt = new WeakMap<ListedTemplate, { readonly fixed: Spelt; readonly whole: Spelt }>();

function speltOf(template: ListedTemplate): { readonly fixed: Spelt; readonly whole: Spelt } {
  let s = spelt.get(template);
  if (s === undefined) spelt.set(template, (s = { fixed: spellPrefix(fixedPart(template.uriTemplate)), whole: spellWhole(template.uriTemplate) }));
  return s;
}

/** The part of a URI template before its first expression: every URI it yields starts with it. */
function fixedPart(uriTemplate: string): string {
  return uriTemplate.split('{')[0] ?? uriTemplate;
}

type Judged = { readonly kind: 'listed' } | { readonly kind: 'error'; readonly code: number; readonly message: string; readonly data?: unknown };

const listings = new ListingsInFlight<Judged>();

/**
 * Lists the upstream's resource templates, hands them to the pins and keeps them for the session.
 * Once per concurrent miss per session and upstream (ListingsInFlight): a burst of reads must not
 * each cost the upstream a full listing. An upstream without resources/templates/list (-32601)
 * lists none.
 */
function judgeTemplates(session: ProxySession, upstream: UpstreamConnection): Promise<Judged> {
  return listings.join(session, upstream, () => {
    const generation = upstream.generation;
    const stamp = session.templatesJudged.stamp(upstream);
    return listWhole(session, upstream, 'resources/templates/list', 'resourceTemplates').then((whole): Judged => {
      if (whole.kind === 'error' && whole.code !== RPC.methodNotFound) return whole;
      const items = whole.kind === 'listed' ? whole.items : [];
      // A listing from a process that has since been replaced says nothing about the running one
      // (left unjudged: the request is answered "send again", never forwarded).
      if (upstream.generation === generation) {
        session.definitionsListed(upstream, 'resources', items);
        session.safely(() => session.opts.guard.onDefinitionsListed?.('resourceTemplate', upstream.name, items));
        const templates = items.filter((t): t is ListedTemplate & typeof t => typeof t.uriTemplate === 'string');
        session.templatesJudged.listed(upstream, stamp, templates.map((t) => ({ name: t.name, uriTemplate: t.uriTemplate })));
      }
      return { kind: 'listed' };
    });
  });
}

function message(template: string, uri: string, reason: TemplateRefusal): string {
  const subject = `resource template ${JSON.stringify(template)} (which serves ${JSON.stringify(uri)})`;
  switch (reason) {
    case 'resourceTemplate.definition_changed':
      return `Refused by mcp-warden: the definition of ${subject} changed since it was pinned; it is withheld until an operator accepts it (warden pins diff --template).`;
    case 'resourceTemplate.new_unpinned':
      return `Refused by mcp-warden: ${subject} is new and not accepted; it is withheld until an operator accepts it (warden pins diff --template).`;
    case 'resourceTemplate.poisoned_description':
      return `Refused by mcp-warden: the definition of ${subject} carries text aimed at the model; it is withheld until an operator accepts it (warden pins diff --template).`;
    case 'resourceTemplate.unjudged':
      return `Refused by mcp-warden: ${subject} has not been judged by the pins; list the resource templates and send the request again.`;
  }
}
