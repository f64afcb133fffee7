import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { DefinitionList } from '../core/definition-lists.js';

export type { DefinitionList };

/**
 * Names a listing dropped that are still remembered as last listed (see `listed`). Past it the
 * comparison cannot be kept, and counts as a change (fail closed): an upstream churning names
 * must not make a rewrite go unseen, nor grow a session.
 */
export const MAX_DROPPED_NAMES = 10_000;

/**
 * How often an upstream announced each list changed (`notifications/{tools,prompts,resources}/
 * list_changed`; resource templates ride on the resources one), per upstream connection.
 *
 * A request is judged against definitions: a tool's, the prompt's or the resource template's
 * it uses (pins, the approval card). A judgement can take minutes (a human answering), and an
 * upstream that rewrites the definition meanwhile (a rug pull timed for the wait) would get the
 * call a person approved for the old one. So the count is read when the request is admitted and
 * again before a forward verdict is acted on; if it moved, the request is not forwarded, and
 * calling again lists and judges the definition afresh (pins included), as after a restart.
 *
 * The announcement is the upstream's to send, so an upstream can leave it out and rewrite a
 * definition silently. Warden then sees the change only when it lists the upstream again (the
 * agent's own tools/list, a lookup): `listed` compares each definition with the one last listed
 * under its name, and a difference counts as an announcement would (`relisted`).
 */
export class DefinitionChanges {
  tools = 0;
  prompts = 0;
  resources = 0;
  /** Changes found by listing again, without an announcement (see `listed`). */
  readonly relisted: Record<DefinitionList, number> = { tools: 0, prompts: 0, resources: 0 };
  /**
   * Per list, each name's definitions as last listed (a digest of their JSON text, so a session
   * holds 44 characters per definition, not the definition again): the listing now and the one
   * before (a listing in pages compares against both until its first page starts the next). The
   * one before also keeps the names earlier listings had and later ones dropped, as last listed
   * (up to MAX_DROPPED_NAMES): a definition an upstream left out of two listings and brought back
   * rewritten is compared with what a waiting call was judged against, not taken for a new one.
   * Several per name for resource templates: a template's name is not
   * unique (only its uriTemplate says what it claims), and two sharing one, listed again unchanged,
   * are no rewrite. One per name for tools and prompts.
   */
  readonly #seen: Record<DefinitionList, { current: Map<string, string[]>; previous: Map<string, string[]> }> = {
    tools: { current: new Map(), previous: new Map() },
    prompts: { current: new Map(), previous: new Map() },
    resources: { current: new Map(), previous: new Map() },
  };

  /** Counts one announcement: the list it announces, or undefined for another method. */
  announced(method: string): DefinitionList | undefined {
    const list = announcedList(method);
    if (list === undefined) return undefined;
    this[list] += 1;
    // Counted already: the next listing is judged afresh, not compared with the old one.
    this.forget(list);
    return list;
  }

  /**
   * Records a listing (or one page of it: `first` when it starts a listing) of `list`; true when a
   * definition differs from the one last listed under its name (counted in `relisted`). Compared
   * as canonical JSON (RFC 8785, as the pins are): a server that writes its keys in another order
   * each time (one building definitions from a hash map) rewrote nothing, and must not have every
   * call that waited refused.
   */
  listed(list: DefinitionList, defs: Iterable<{ readonly name: string }>, first = true): boolean {
    const seen = this.#seen[list];
    let changed = false;
    if (first) {
      const before = withDropped(seen.current, seen.previous);
      // Too many dropped names to remember: what a call waited on may be among those let go.
      changed = before === undefined;
      seen.previous = before ?? seen.current;
      seen.current = new Map();
    }
    for (const def of defs) {
      if (typeof def.name !== 'string') continue;
      const text = createHash('sha256').update(canonicalJson(def)).digest('base64');
      const now = seen.current.get(def.name);
      const before = seen.previous.get(def.name);
      if (list !== 'resources') {
        // Tool and prompt names are unique: one listed twice is the upstream's doing, and each
        // copy is compared with the last one listed (the one a call was judged against).
        const last = now?.[0] ?? before?.[0];
        if (last !== undefined && last !== text) changed = true;
        seen.current.set(def.name, [text]);
        continue;
      }
      // A template: a rewrite when none of the definitions listed under its name (before, or
      // already in this listing) reads so. In the first listing after a fresh start (nothing
      // before it), a name seen again is a second template sharing it, not a rewrite.
      const listedBefore = before !== undefined || (now !== undefined && seen.previous.size > 0);
      if (listedBefore && !now?.includes(text) && !before?.includes(text)) changed = true;
      if (now === undefined) seen.current.set(def.name, [text]);
      else if (!now.includes(text)) now.push(text);
    }
    if (changed) this.relisted[list] += 1;
    return changed;
  }

  /** Forgets what was listed (all lists, or one): after a restart, or an announcement that counted the change. */
  forget(list?: DefinitionList): void {
    for (const l of list === undefined ? (['tools', 'prompts', 'resources'] as const) : [list]) {
      this.#seen[l] = { current: new Map(), previous: new Map() };
    }
  }
}

/**
 * The listing just finished, plus each name an earlier one had and it lacks, as last listed;
 * undefined when that is more than MAX_DROPPED_NAMES names.
 */
function withDropped(finished: Map<string, string[]>, earlier: Map<string, string[]>): Map<string, string[]> | undefined {
  const out = new Map(finished);
  let dropped = 0;
  for (const [name, texts] of earlier) {
    if (out.has(name)) continue;
    if (++dropped > MAX_DROPPED_NAMES) return undefined;
    out.set(name, texts);
  }
  return out;
}

function announcedList(method: string): DefinitionList | undefined {
  switch (method) {
    case 'notifications/tools/list_changed':
      return 'tools';
    case 'notifications/prompts/list_changed':
      return 'prompts';
    case 'notifications/resources/list_changed':
      return 'resources';
    default:
      return undefined;
  }
}
