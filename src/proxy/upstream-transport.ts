import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ChildStdioTransport } from './child-stdio-transport.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport, FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Upstream } from '../config/config-schema.js';
import type { Logger } from '../logging/logger.js';
import { lossReportingFetch, type LossReporter } from './http-upstream-loss.js';

/** Size bounds for a stdio upstream child (from the config's `limits`). */
export interface UpstreamLimits {
  /** Largest line accepted from the child. */
  readonly maxMessageBytes: number;
  /** Output buffered for a child that does not read its stdin before it counts as failed. */
  readonly maxBufferedOutputBytes: number;
}

/**
 * Creates the SDK client transport for one upstream. All transport construction lives here so a
 * second protocol revision can be added in one place. `onLost` hears network failures under an
 * HTTP transport, and a stdio child that stopped reading its stdin (a child that exits reports
 * its end through `onclose` instead).
 */
export function createUpstreamTransport(name: string, upstream: Upstream, logger: Logger, limits: UpstreamLimits, onLost: LossReporter): Transport {
  if ('command' in upstream) {
    return new ChildStdioTransport(name, {
      command: upstream.command,
      args: upstream.args,
      // The SDK's default environment is a safe subset (PATH, HOME, ...); configured vars add to it.
      env: { ...getDefaultEnvironment(), ...(upstream.env ?? {}) },
      cwd: upstream.cwd,
      maxMessageBytes: limits.maxMessageBytes,
      maxBufferedOutputBytes: limits.maxBufferedOutputBytes,
    }, logger, onLost);
  }
  return new StreamableHTTPClientTransport(new URL(upstream.url), {
    requestInit: { headers: upstream.headers ?? {} },
    fetch: perRequestSignalFetch(lossReportingFetch(fetch, onLost)),
  });
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
