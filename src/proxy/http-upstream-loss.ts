import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * How warden learns that a Streamable HTTP upstream is gone. The SDK client transport never
 * closes itself (its `onclose` only fires when warden calls `close()`), so the stdio crash path
 * never sees an HTTP upstream fail. Two signals stand in for it:
 *
 * - the SDK's own report of HTTP 404 on a request that carried a session id, or the 400 "Server
 *   not initialized" of a restarted single-transport SDK server ({@link isSessionNotFound});
 * - the network under the transport failing: a fetch that rejects, or a POST response stream
 *   that breaks before it ends ({@link lossReportingFetch}). The SDK does not answer requests
 *   whose response stream broke; without this they would wait for their timeout.
 */

/** What to report, phrased to follow "upstream '<name>' ". */
export type LossReporter = (reason: string) => void;

/**
 * True when `err` says the upstream ended our session. MCP 2025-11-25 (Streamable HTTP, session
 * management): a server answers a request carrying an unknown or ended `Mcp-Session-Id` with
 * 404, and the client must start a new session with a fresh `initialize`. The SDK client throws
 * `StreamableHTTPError` with `code` 404 from `send()` and passes the same error to `onerror`
 * first; on the standalone GET stream (and its reconnections) `onerror` is the only report.
 * A 404 without a session id (on `initialize`) is a wrong URL, not a lost session: it fails the
 * start instead of looping re-initialisation.
 */
export function isSessionNotFound(transport: Transport, err: unknown): boolean {
  if (!(err instanceof StreamableHTTPError) || transport.sessionId === undefined) return false;
  if (err.code === 404) return true;
  // A server written as one SDK transport for the whole process (the SDK's simplest examples)
  // answers an old session id after a restart with 400 "Server not initialized" instead: it has
  // no session at all, so ours is gone just the same. The SDK puts the response body into the
  // message; only that exact JSON-RPC error counts, not the words anywhere (a server echoing
  // input in a 400 could otherwise make warden drop its session).
  return err.code === 400 && jsonRpcErrorMessage(err.message) === 'Bad Request: Server not initialized';
}

/** The `error.message` of the JSON-RPC body the SDK appended to its error text, if there is one. */
function jsonRpcErrorMessage(text: string): string | undefined {
  const start = text.indexOf('{');
  if (start === -1) return undefined;
  try {
    const body = JSON.parse(text.slice(start)) as { error?: { message?: unknown } };
    return typeof body?.error?.message === 'string' ? body.error.message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wraps fetch so a network failure under the SDK transport is reported: a rejected fetch (the
 * server is unreachable or dropped the connection before answering) or a POST response body that
 * errors mid-way (the server went away while answering). warden's own aborts (closing the
 * connection) are not losses. A GET stream that breaks is left to the SDK: it reconnects that
 * stream itself, and if the server is really gone the reconnection ends in a rejected fetch or a
 * 404 here. Reporting the break itself would also reset the session whenever an idle GET stream
 * hits the HTTP client's body timeout.
 */
export function lossReportingFetch(base: FetchLike, onLost: LossReporter): FetchLike {
  return async (url, init) => {
    const signal = init?.signal ?? undefined;
    let response: Response;
    try {
      response = await base(url, init);
    } catch (err) {
      if (!signal?.aborted) onLost(`is unreachable (${describe(err)})`);
      throw err;
    }
    if (init?.method !== 'POST' || !response.body) return response;
    const body = watchBody(response.body, () => {
      if (!signal?.aborted) onLost('dropped the connection while answering');
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** Passes the body through unchanged and calls `onBroken` when reading it fails. */
function watchBody(source: ReadableStream<Uint8Array>, onBroken: () => void): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A rejected pull errors this stream with the same reason, so the SDK sees the real error.
      const chunk = await reader.read().catch((err: unknown) => {
        onBroken();
        throw err;
      });
      if (chunk.done) controller.close();
      else controller.enqueue(chunk.value);
    },
    // The SDK cancels bodies it does not need (202, non-request POSTs): that is no loss.
    cancel: (reason) => reader.cancel(reason),
  });
}

/** Node's fetch rejects with "fetch failed" and the socket error (ECONNREFUSED, ...) as `cause`. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
