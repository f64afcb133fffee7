import { DECISION_META_KEY } from './decision-meta.js';

/**
 * JSON-RPC error code of a request other than `tools/call` that warden judged and did not forward
 * (policy block, throttle rejection, denied / timed-out / withdrawn approval, revocation, an
 * internal error on the decision path). A server error (-32000..-32099) of its own: not -32602,
 * the request's params were fine, and not the -32000..-32002 that upstream loss, timeouts and
 * unknown resources already use, so an agent can tell a refusal from a failing upstream.
 */
export const REFUSED_CODE = -32010;

const FALLBACK_TEXT = 'Refused by mcp-warden.';

/**
 * A `resources/read` cannot be answered with a tool result: warden's refusal (the
 * `CallToolResult` a tool call would get, see block-result.ts) becomes a JSON-RPC error whose
 * message is the refusal's text and whose `data` is the same decision (`action`, `reason`,
 * `callId`, `score`, `rules`, `reasons`, `retryAfterMs`, `approvalId`, ...). A result not shaped
 * by warden (a custom guard's) still refuses: its text, or a fixed one, without data.
 */
export function refusalAsRpcError(result: Record<string, unknown>): { code: number; message: string; data?: unknown } {
  const message = textOf(result.content) ?? FALLBACK_TEXT;
  const meta = result._meta;
  const decision = typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>)[DECISION_META_KEY] : undefined;
  return typeof decision === 'object' && decision !== null ? { code: REFUSED_CODE, message, data: decision } : { code: REFUSED_CODE, message };
}

/** The text items of a tool result's content, joined; undefined when there are none. */
function textOf(content: unknown): string | undefined {
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const item of content) {
    if (typeof item === 'object' && item !== null && (item as { type?: unknown }).type === 'text' && typeof (item as { text?: unknown }).text === 'string') {
      texts.push((item as { text: string }).text);
    }
  }
  return texts.length > 0 ? texts.join('\n') : undefined;
}
