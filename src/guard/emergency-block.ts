/** The reverse-DNS `_meta` key under which every warden decision is reported to the agent. */
export const DECISION_META_KEY = 'dev.mcp-warden/decision';

/**
 * A block result built without any other module, for when the decision path itself failed.
 * Must not throw: it is the last line of the fail-closed path.
 */
export function emergencyBlockResult(callId: string, reason: string, text: string): Record<string, unknown> {
  return {
    content: [{ type: 'text', text }],
    isError: true,
    _meta: { [DECISION_META_KEY]: { action: 'block', reason, callId } },
  };
}
