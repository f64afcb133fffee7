import type { DefinitionListing } from '../core/tool-call.js';
import { refuseHeldDefinition } from './held-definition-refusal.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import { listWhole, type WholeListing } from './known-tools.js';
import { ListingsInFlight } from './listings-in-flight.js';
import type { ProxySession } from './proxy-session.js';
import type { UpstreamConnection } from './upstream-connection.js';

/** Why a prompts/get (or a completion of a prompt's argument) is refused (the `reason` of its `request.refused` record and error data). */
export type PromptRefusal = 'prompt.definition_changed' | 'prompt.new_unpinned' | 'prompt.poisoned_description' | 'prompt.unlisted';

const REFUSAL: Readonly<Record<Exclude<DefinitionListing, { listed: true }>['why'], PromptRefusal>> = {
  changed: 'prompt.definition_changed',
  new: 'prompt.new_unpinned',
  poisoned: 'prompt.poisoned_description',
  unseen: 'prompt.unlisted',
};

/** What a request asks of a prompt: the upstream's own name and the name the agent used. */
export interface PromptAsked {
  /** The upstream's own (un-namespaced) prompt name; not a string when the request named none. */
  readonly name: unknown;
  /** The name as the agent sent it (namespaced with several upstreams), for the refusal's message. */
  readonly asked: unknown;
}

/**
 * prompts/get hands the model a prompt under the definition prompts/list showed, and
 * completion/complete of a prompt's argument (`ref/prompt`) hands it values the upstream suggests
 * for that prompt. One whose definition nobody accepted (changed, new, flagged) is left out of
 * prompts/list, and getting it, or completing its arguments, anyway is refused, as calling a
 * withheld tool is, until `warden pins accept --prompt`: a completion of a held prompt would
 * reach the upstream that rewrote it and return its text to the model unpinned. A prompt the pins
 * have not judged (the agent did not list, or the upstream added it since) is judged first:
 * warden lists the upstream's prompts itself. One the upstream does not list at all is refused
 * too: its text would reach the model without ever being pinned. Calls `forward` when the prompt
 * may be used; otherwise answers -32602 and records `request.refused`.
 */
export async function usePromptIfPinned(session: ProxySession, request: RpcRequest, upstream: UpstreamConnection, prompt: PromptAsked, forward: () => void): Promise<void> {
  const guard = session.opts.guard;
  const name = prompt.name;
  if (!guard.definitionListing || typeof name !== 'string') {
    // No pins, or no name the pins could judge (refused: a nameless request names no pin, and
    // the upstream might still answer it for some prompt).
    if (!guard.definitionListing) return forward();
    session.toAgent(errorResponse(request.id, RPC.invalidParams, `${request.method} needs a prompt name`));
    return;
  }
  let listing = guard.definitionListing('prompt', upstream.name, name);
  // Judged only against a listing of the process running now, since it last said its prompts
  // changed: the pins' last listing may be another process's (a restart, another HTTP session's
  // upstream) or from before a rug pull the agent did not list again after.
  if (!session.promptsJudged.current(upstream) || (!listing.listed && listing.why === 'unseen')) {
    const whole = await judgeListing(session, upstream);
    if (whole.kind === 'error') {
      session.toAgent(errorResponse(request.id, whole.code, whole.message, whole.data));
      return;
    }
    if (!session.promptsJudged.current(upstream)) {
      // The upstream restarted (or announced a change) while it was listed: not judged, not forwarded.
      session.toAgent(errorResponse(request.id, RPC.upstreamClosed, `upstream '${upstream.name}' changed its prompts while warden listed them; send the request again`));
      return;
    }
    listing = guard.definitionListing('prompt', upstream.name, name);
  }
  if (listing.listed) return forward();
  refuse(session, request, upstream.name, name, typeof prompt.asked === 'string' ? prompt.asked : name, REFUSAL[listing.why]);
}

const listings = new ListingsInFlight<WholeListing>();

/**
 * Lists the upstream's prompts and hands them to the pins. Once per concurrent miss per session
 * and upstream (ListingsInFlight): a burst of gets for unlisted names must not each cost the
 * upstream a full listing.
 */
function judgeListing(session: ProxySession, upstream: UpstreamConnection): Promise<WholeListing> {
  return listings.join(session, upstream, () => {
    const generation = upstream.generation;
    const stamp = session.promptsJudged.stamp(upstream);
    return listWhole(session, upstream, 'prompts/list', 'prompts').then((whole) => {
      // A listing from a process that has since been replaced says nothing about the running one
      // (left unjudged: the prompt stays unseen, so refused).
      if (whole.kind === 'listed' && upstream.generation === generation) {
        session.definitionsListed(upstream, 'prompts', whole.items);
        session.safely(() => session.opts.guard.onDefinitionsListed?.('prompt', upstream.name, whole.items));
        session.promptsJudged.listed(upstream, stamp);
      }
      return whole;
    });
  });
}

function refuse(session: ProxySession, request: RpcRequest, upstream: string, prompt: string, asked: string, reason: PromptRefusal): void {
  refuseHeldDefinition(session, request, upstream, { prompt }, reason, message(asked, reason));
}

function message(prompt: string, reason: PromptRefusal): string {
  const name = JSON.stringify(prompt);
  switch (reason) {
    case 'prompt.definition_changed':
      return `Refused by mcp-warden: the definition of prompt ${name} changed since it was pinned; it is withheld until an operator accepts it (warden pins diff --prompt).`;
    case 'prompt.new_unpinned':
      return `Refused by mcp-warden: prompt ${name} is new and not accepted; it is withheld until an operator accepts it (warden pins diff --prompt).`;
    case 'prompt.poisoned_description':
      return `Refused by mcp-warden: the definition of prompt ${name} carries text aimed at the model; it is withheld until an operator accepts it (warden pins diff --prompt).`;
    case 'prompt.unlisted':
      return `Unknown prompt: ${name}`;
  }
}
