import { digestOf } from '../core/canonical-json.js';
import type { ToolDefinition } from '../core/tool-call.js';

/** The parts of a tool definition that are pinned: everything the model reads or relies on. */
export interface PinnedPart {
  readonly title?: unknown;
  readonly description?: unknown;
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
  readonly annotations?: unknown;
}

/** Extracts the pinned part (unknown extra fields such as `_meta` or `icons` are not pinned). */
export function pinnedPart(def: ToolDefinition | PinnedPart): PinnedPart {
  const d = def as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['title', 'description', 'inputSchema', 'outputSchema', 'annotations']) {
    if (d[k] !== undefined) out[k] = d[k];
  }
  return out;
}

/** `sha256:<hex>` over the canonical JSON of the pinned part. */
export function toolDigest(def: ToolDefinition | PinnedPart): string {
  return digestOf(pinnedPart(def));
}
