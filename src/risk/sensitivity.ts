import type { Reason, Sensitivity } from '../core/decision.js';
import type { ToolAnnotations, ToolDefinition } from '../core/tool-call.js';
import { SENSITIVITY_RANK, type CompiledPolicy, type ToolEntry } from '../policy/compiled-policy.js';

export interface SensitivityResult {
  readonly level: Sensitivity;
  /** False when no name-only `sensitivity` entry matched the tool (defaults apply). */
  readonly classified: boolean;
  readonly toolClass: string;
  /** Zero-weight reasons explaining where the level came from (the level's points come later). */
  readonly reasons: Reason[];
}

/** The class a tool's rate counters use: the entry's `class`, else its level, else `unclassified`. */
export function toolClassOf(entry: ToolEntry): string {
  return entry.base?.toolClass ?? entry.base?.level ?? 'unclassified';
}

function hint(annotations: ToolAnnotations | undefined, key: keyof ToolAnnotations): boolean | undefined {
  const v = annotations?.[key];
  // Anything but a real boolean is treated as missing, i.e. the spec default applies.
  return typeof v === 'boolean' ? v : undefined;
}

/**
 * Annotation floors. Hints are untrusted: they can only raise the level. A missing hint counts
 * as its spec default (readOnly false, destructive true, idempotent false, openWorld true).
 */
function applyAnnotationFloors(policy: CompiledPolicy, def: ToolDefinition | undefined, level: Sensitivity, reasons: Reason[]): Sensitivity {
  const a = def?.annotations;
  const readOnly = hint(a, 'readOnlyHint') ?? false;
  const raise = (code: string, floor: Sensitivity): void => {
    if (SENSITIVITY_RANK[floor] <= SENSITIVITY_RANK[level]) return;
    reasons.push({ code, weight: 0, detail: `tool annotation raised ${level} to ${floor}` });
    level = floor;
  };
  if (!readOnly && (hint(a, 'destructiveHint') ?? true)) raise('annotation.destructive', policy.annotations.destructive);
  if (!readOnly && !(hint(a, 'idempotentHint') ?? false)) raise('annotation.non_idempotent', policy.annotations.nonIdempotent);
  if (hint(a, 'openWorldHint') ?? true) raise('annotation.open_world', policy.annotations.openWorld);
  return level;
}

/**
 * Sensitivity of one call: the strictest name-only entry (or the policy default when none
 * matches), raised by argument-conditional entries whose conditions hold, raised by
 * annotation floors. Never lowered.
 */
export function classifyCall(
  policy: CompiledPolicy,
  entry: ToolEntry,
  args: unknown,
  def: ToolDefinition | undefined,
): SensitivityResult {
  const reasons: Reason[] = [];
  let level: Sensitivity = entry.base?.level ?? policy.defaults.sensitivity;
  if (!entry.base) reasons.push({ code: 'sensitivity.unclassified', weight: 0, detail: `no sensitivity entry; default ${level}` });
  for (const raise of entry.raises) {
    if (SENSITIVITY_RANK[raise.level] <= SENSITIVITY_RANK[level] || !raise.when?.(args)) continue;
    reasons.push({ code: 'sensitivity.raised', weight: 0, detail: `sensitivity[${raise.index}] raised ${level} to ${raise.level}` });
    level = raise.level;
  }
  level = applyAnnotationFloors(policy, def, level, reasons);
  return { level, classified: entry.base !== undefined, toolClass: toolClassOf(entry), reasons };
}
