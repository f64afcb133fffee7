/** Reverse-DNS `_meta` key carrying warden's decision on a tool result it produced itself. */
export const DECISION_META_KEY = 'dev.mcp-warden/decision';

/**
 * A tool result that says no: `isError: true`, a short human-readable reason, and the decision
 * under `_meta` so agents and tests can tell a warden block from a tool failure.
 */
export function blockedToolResult(reason: string, callId: string, text: string): Record<string, unknown> {
  return {
    content: [{ type: 'text', text }],
    isError: true,
    _meta: { [DECISION_META_KEY]: { action: 'block', reason, callId } },
  };
}
