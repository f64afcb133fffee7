/** The agent's side of a pending approval: how long it waits, and why it stopped waiting. */
import type { Logger } from '../logging/logger.js';

/** What an SDK client waits for any request unless told otherwise (RequestOptions.timeout). */
export const SDK_DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const MAX_REASON_CHARS = 200;

/**
 * Why the call's signal fired, for the withdrawal record: the proxy passes a string (the agent's
 * cancel reason, "session closed: …", "agent closed the response stream"). The agent's text is
 * untrusted: bounded here, escaped by the audit sink and by every terminal renderer.
 */
export function withdrawReason(signal: AbortSignal): string {
  const why = signal.reason;
  if (typeof why !== 'string' || why.length === 0) return 'agent cancelled or session ended';
  return why.length > MAX_REASON_CHARS ? `${why.slice(0, MAX_REASON_CHARS)}…` : why;
}

/**
 * A stock MCP SDK agent gives up on a call after 60 s and progress does not reset that unless it
 * opts in: with a longer approval timeout it errors with -32001 while its approval is pending.
 * Said once at start-up, so an operator who raised the timeout knows what agents must do.
 */
export function warnIfAgentsGiveUpFirst(timeoutMs: number, logger: Logger): void {
  if (timeoutMs < SDK_DEFAULT_REQUEST_TIMEOUT_MS) return;
  logger.warn(
    { timeoutMs },
    'approvals.timeoutMs is not below the MCP SDK default request timeout (60 s): agents must pass resetTimeoutOnProgress with onprogress (or a longer timeout) to see approvals that take longer',
  );
}
