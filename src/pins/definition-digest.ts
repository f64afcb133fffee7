import { digestOf } from '../core/canonical-json.js';

/**
 * What warden pins: every listed definition whose text reaches the model. Tools (`tools/list`),
 * prompts (`prompts/list`) and resource templates (`resources/templates/list`) are pinned per
 * upstream, kind and name, so a prompt and a tool of the same name never share a pin.
 */
export const PIN_KINDS = ['tool', 'prompt', 'resourceTemplate'] as const;
export type PinKind = (typeof PIN_KINDS)[number];

interface KindSpec {
  /** The fields that are pinned: everything the model reads, the client shows or acts on. */
  readonly fields: readonly string[];
  /** Of those, the structured ones whose every string is scanned (description and title always are). */
  readonly walked: readonly string[];
  /** Key of the kind's section in the pin file, and of the names in a first-use `pins.accepted`. */
  readonly section: 'tools' | 'prompts' | 'resourceTemplates';
  /** The list request that shows the model these definitions. */
  readonly listMethod: 'tools/list' | 'prompts/list' | 'resources/templates/list';
}

/**
 * Tools: `icons` (what a person sees next to the tool), `execution` (how the client runs it, e.g.
 * as a task) and `_meta` (client extensions, such as the UI resource an MCP App renders) change
 * what the tool looks like or does as much as its description does. Prompts: the arguments'
 * names and descriptions are read by the model like a tool's parameters. Resource templates: the
 * `uriTemplate` decides which URIs the upstream claims (and routes them), `mimeType` how the
 * client reads what comes back. `icons` and `_meta` are not scanned: icons are often `data:` URIs
 * (base64 the blob detector would flag), `_meta` is for clients, not the model.
 */
export const KIND_SPECS: Readonly<Record<PinKind, KindSpec>> = {
  tool: {
    fields: ['title', 'description', 'inputSchema', 'outputSchema', 'annotations', 'icons', 'execution', '_meta'],
    walked: ['annotations', 'inputSchema', 'outputSchema'],
    section: 'tools',
    listMethod: 'tools/list',
  },
  prompt: {
    fields: ['title', 'description', 'arguments', 'icons', '_meta'],
    walked: ['arguments'],
    section: 'prompts',
    listMethod: 'prompts/list',
  },
  resourceTemplate: {
    fields: ['uriTemplate', 'title', 'description', 'mimeType', 'annotations', 'icons', '_meta'],
    walked: ['uriTemplate', 'mimeType', 'annotations'],
    section: 'resourceTemplates',
    listMethod: 'resources/templates/list',
  },
};

/** Every pinned field of any kind, in the order diffs show them. */
export const ALL_PINNED_FIELDS: readonly string[] = [...new Set(PIN_KINDS.flatMap((k) => KIND_SPECS[k].fields))];

/** The pinned part of a definition (see KIND_SPECS); `name` is the key, not part of it. */
export type PinnedPart = { readonly [field: string]: unknown };

/** A listed definition: a name plus whatever the upstream sent. */
export interface NamedDefinition {
  readonly name: string;
  readonly [field: string]: unknown;
}

/**
 * Extracts the pinned part; only fields the definition has are included, so a definition without
 * the later-added fields keeps the digest it had before they were pinned.
 */
export function pinnedPart(def: NamedDefinition | PinnedPart, kind: PinKind): PinnedPart {
  const d = def as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of KIND_SPECS[kind].fields) {
    if (d[k] !== undefined) out[k] = d[k];
  }
  return out;
}

/** `sha256:<hex>` over the canonical JSON of the pinned part. */
export function definitionDigest(def: NamedDefinition | PinnedPart, kind: PinKind): string {
  return digestOf(pinnedPart(def, kind));
}
