import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * How long an HTTP upstream has to answer the DELETE that ends warden's session with it: as long
 * as a stdio child has to exit on its own after its stdin closes, before SIGTERM.
 */
export const UPSTREAM_DELETE_GRACE_MS = 2_000;

/**
 * Ends warden's session with an HTTP upstream (DELETE with its `Mcp-Session-Id`), waiting at most
 * `graceMs` for the answer. The SDK's DELETE has no deadline of its own, so an upstream that
 * accepts it and never answers (hung, or hostile) held the closing agent session, still served
 * in the meantime, and warden's whole stop, for the HTTP client's headers timeout (five
 * minutes). A DELETE still waiting after the grace is aborted by the transport's close(), which
 * the caller runs next. A stdio transport has no session to end.
 */
export async function endUpstreamSession(transport: Transport, graceMs = UPSTREAM_DELETE_GRACE_MS): Promise<void> {
  const http = transport as { terminateSession?: () => Promise<void> };
  if (typeof http.terminateSession !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
  try {
    await Promise.race([http.terminateSession().catch(() => undefined), grace]);
  } finally {
    clearTimeout(timer);
  }
}
