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

/** JSON-RPC "invalid params": what MCP servers answer for a tool that does not exist. */
export const UNKNOWN_TOOL_CODE = -32602;

/**
 * The one message for a tool the agent may not call or that does not exist. The proxy (unknown
 * names) and the guard (hidden tools) both use it, so an agent cannot tell the two apart.
 */
export function unknownToolMessage(exposedName: string): string {
  return `Unknown tool: ${exposedName}`;
}
