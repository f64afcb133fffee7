import type { Principal } from '../core/principal.js';
import type { GuardVerdict, ToolDefinition } from '../core/tool-call.js';
import { buildUnknownToolError } from './block-result.js';

/**
 * Answers whether a principal may ever call a tool (exposed name). Provided by the policy engine;
 * `false` means "never", so the tool can be hidden from that principal's `tools/list`.
 */
export type MayEverCall = (principal: Principal, exposedName: string) => boolean;

/**
 * Removes tools a principal may never call from a `tools/list` answer when hiding is enabled.
 * A predicate that throws hides the tool: listing less is the fail-closed side.
 */
export function filterVisibleTools(
  principal: Principal,
  tools: readonly ToolDefinition[],
  options: { readonly hideForbidden: boolean; readonly mayEverCall: MayEverCall },
): readonly ToolDefinition[] {
  if (!options.hideForbidden) return tools;
  return tools.filter((tool) => {
    try {
      return options.mayEverCall(principal, tool.name);
    } catch {
      return false;
    }
  });
}

/**
 * For a `tools/call`: returns the `-32602` verdict when the tool is unknown, or hidden from this
 * principal, and `undefined` when the call may proceed to a decision.
 */
export function checkToolVisible(
  principal: Principal,
  exposedName: string,
  known: boolean,
  options: { readonly hideForbidden: boolean; readonly mayEverCall: MayEverCall },
): GuardVerdict | undefined {
  if (!known) return buildUnknownToolError(exposedName);
  if (!options.hideForbidden) return undefined;
  let visible = false;
  try {
    visible = options.mayEverCall(principal, exposedName);
  } catch {
    visible = false; // fail closed: a predicate fault treats the tool as hidden
  }
  return visible ? undefined : buildUnknownToolError(exposedName);
}
