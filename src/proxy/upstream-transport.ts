import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ChildStdioTransport } from './child-stdio-transport.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport, FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Upstream } from '../config/config-schema.js';
import type { Logger } from '../logging/logger.js';
import { lossReportingFetch, type LossReporter } from './http-upstream-loss.js';
import { messageBoundFetch } from './http-message-bound.js';
import { AnsweredStreams } from './answered-streams.js';
import { StreamKeeper, type StreamReporter } from './upstream-stream-keeper.js';
import { StderrTail, reportExitWithStderr, stderrTailLogger } from './stderr-tail.js';

export interface UpstreamTransportHooks {
  /** Network failures under an HTTP transport (a stdio child reports its end through `onclose`). */
  readonly onLost: LossReporter;
  /** The standing GET stream of an HTTP upstream was lost or is open again. */
  readonly onStream: StreamReporter;
}

export interface UpstreamTransport {
  readonly transport: Transport;
  /** HTTP only: keeps the standing GET stream open; hears the transport's non-session errors. */
  readonly keeper: StreamKeeper | undefined;
  /** HTTP only: ends a request's event stream once its answer arrived (see answered-streams.ts). */
  readonly answered: AnsweredStreams | undefined;
}

/** Size bounds for an upstream (from the config's `limits`). */
export interface UpstreamLimits {
  /** Largest message accepted: a line from a stdio child, a JSON answer or SSE event over HTTP. */
  readonly maxMessageBytes: number;
  /** Output buffered for a child that does not read its stdin before it counts as failed. */
  readonly maxBufferedOutputBytes: number;
}

/**
 * Creates the SDK client transport for one upstream. All transport construction lives here so a
 * second protocol revision can be added in one place. `hooks.onLost` hears network failures
 * under an HTTP transport, and a stdio child that stopped reading its stdin (a child that exits
 * reports its end through `onclose` instead).
 */
export function createUpstreamTransport(name: string, upstream: Upstream, logger: Logger, limits: UpstreamLimits, hooks: UpstreamTransportHooks): UpstreamTransport {
  if ('command' in upstream) {
    const tail = new StderrTail();
    const transport = new ChildStdioTransport(name, {
      command: upstream.command,
      args: upstream.args,
      // The SDK's default environment is a safe subset (PATH, HOME, ...); configured vars add to it.
      env: { ...getDefaultEnvironment(), ...(upstream.env ?? {}) },
      cwd: upstream.cwd,
      maxMessageBytes: limits.maxMessageBytes,
      maxBufferedOutputBytes: limits.maxBufferedOutputBytes,
    }, stderrTailLogger(logger, tail), hooks.onLost);
    reportExitWithStderr(transport, tail, hooks.onLost);
    return { transport, keeper: undefined, answered: undefined };
  }
  const keeper = new StreamKeeper(name, logger, hooks.onStream);
  const answered = new AnsweredStreams();
  const transport = new StreamableHTTPClientTransport(new URL(upstream.url), {
    requestInit: { headers: upstream.headers ?? {} },
    // The keeper is outermost: it sees the SDK's own abort signal and the responses as the SDK does.
    // An answered stream is ended inside the per-request signal (which is released at a stream's
    // end) and outside the loss report (ending it is no loss).
    fetch: keeper.watch(perRequestSignalFetch(answered.watch(lossReportingFetch(messageBoundFetch(fetch, limits.maxMessageBytes, hooks.onLost), hooks.onLost)))),
  });
  keeper.attach(transport);
  return { transport, keeper, answered };
}

/**
 * The SDK HTTP client transport passes one shared AbortSignal to every fetch; under load each
 * in-flight fetch adds a listener to it (MaxListenersExceededWarning, listener leak). This fetch
 * gives every request its own signal and links them to the shared one through a single listener.
 */
export function perRequestSignalFetch(base: FetchLike = fetch): FetchLike {
  const linked = new WeakMap<AbortSignal, Set<AbortController>>();
  const register = (shared: AbortSignal, own: AbortController): (() => void) => {
    if (shared.aborted) {
      own.abort(shared.reason);
      return () => {};
    }
    let set = linked.get(shared);
    if (!set) {
      const created = new Set<AbortController>();
      linked.set(shared, created);
      shared.addEventListener('abort', () => {
        for (const c of created) c.abort(shared.reason);
        created.clear();
      }, { once: true });
      set = created;
    }
    set.add(own);
    const s = set;
    return () => s.delete(own);
  };
  return async (url, init) => {
    const shared = init?.signal ?? undefined;
    if (!shared) return base(url, init);
    const own = new AbortController();
    const release = register(shared, own);
    try {
      const response = await base(url, { ...init, signal: own.signal });
      if (!response.body) {
        release();
        return response;
      }
      // Keep the link until the body (possibly an SSE stream) is finished, then drop it.
      const body = response.body.pipeThrough(new TransformStream({ flush: release }));
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (err) {
      release();
      throw err;
    }
  };
}
