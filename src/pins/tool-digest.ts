import { digestOf } from '../core/canonical-json.js';
import type { ToolDefinition } from '../core/tool-call.js';

/**
 * The fields of a tool definition that are pinned: everything the model reads, the client shows
 * or acts on. `icons` (what a person sees next to the tool), `execution` (how the client runs it,
 * e.g. as a task) and `_meta` (client extensions, such as the UI resource an MCP App renders)
 * change what the tool looks like or does as much as its description does.
 */
export const PINNED_FIELDS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations', 'icons', 'execution', '_meta'] as const;

/** The parts of a tool definition that are pinned (see PINNED_FIELDS). */
export type PinnedPart = { readonly [K in (typeof PINNED_FIELDS)[number]]?: unknown };

/**
 * Extracts the pinned part; only fields the definition has are included, so a tool without the
 * later-added fields keeps the digest it had before they were pinned.
 */
export function pinnedPart(def: ToolDefinition | PinnedPart): PinnedPart {
  const d = def as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of PINNED_FIELDS) {
    if (d[k] !== undefined) out[k] = d[k];
  }
  return out;
}

/** `sha256:<hex>` over the canonical JSON of the pinned part. */
export function toolDigest(def: ToolDefinition | PinnedPart): string {
  return digestOf(pinnedPart(def));
}
