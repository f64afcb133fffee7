import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * Warden's own requests as it serialises them (upstream-connection.ts builds `{jsonrpc, id,
 * method, params}` with a numeric id, and the SDK sends JSON.stringify of it): the id is read off
 * the front of the body instead of parsing a body of megabytes again.
 */
const REQUEST_PREFIX = /^\{"jsonrpc":"2\.0","id":(\d+),"method":/;

/**
 * Ends the event stream of a POST to a Streamable HTTP upstream once the answer to the request it
 * carried has arrived. The spec asks the server to close it then; the SDK client reads it until
 * the server does. An upstream (hostile or broken) that answers on an event stream and never ends
 * it had warden keep one socket per request it ever sent, for as long as the server kept the
 * streams alive: warden's sockets ran out, for every session. Each POST carries one request, so
 * nothing more for it can follow its answer. A request warden gave up on (its timeout) ends its
 * stream too: a server that never answers cannot hold one socket per request either.
 */
export class AnsweredStreams {
  private readonly open = new Map<number, () => void>();
  /**
   * Requests whose POST still waits for its response headers; true once their answer arrived (on
   * another stream) or warden gave up on them meanwhile. Without it, a stream whose headers came
   * after that (an upstream that holds the headers past warden's timeout, then opens an event
   * stream it never ends) was never ended: one socket kept per request again.
   */
  private readonly awaitingHeaders = new Map<number, boolean>();

  /** Wraps the transport's fetch: event streams of requests are remembered until answered. */
  watch(base: FetchLike): FetchLike {
    return async (url, init) => {
      const id = init?.method === 'POST' && typeof init.body === 'string' ? REQUEST_PREFIX.exec(init.body.slice(0, 64))?.[1] : undefined;
      if (id === undefined) return base(url, init);
      const key = Number(id);
      this.awaitingHeaders.set(key, false);
      let response: Response;
      let over: boolean;
      try {
        response = await base(url, init);
      } finally {
        over = this.awaitingHeaders.get(key) === true;
        this.awaitingHeaders.delete(key);
      }
      if (!response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) return response;
      let endNow: (() => void) | undefined;
      const body = endable(response.body, (end) => (over ? (endNow = end) : this.open.set(key, end)), () => this.open.delete(key));
      // Nothing on it is awaited any more: it ends before anything is read.
      endNow?.();
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
  }

  /** The answer to request `id` arrived, or warden stopped waiting for it: its stream, if it got one, ends now. */
  end(id: number): void {
    if (this.awaitingHeaders.has(id)) this.awaitingHeaders.set(id, true);
    const end = this.open.get(id);
    if (!end) return;
    this.open.delete(id);
    end();
  }
}

/** Passes `source` through; the function given to `register` ends it early (cleanly) and releases the source. */
function endable(source: ReadableStream<Uint8Array>, register: (end: () => void) => void, forget: () => void): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let ended = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    async pull(c) {
      const chunk = await reader.read();
      if (ended) return;
      if (!chunk.done) return c.enqueue(chunk.value);
      ended = true;
      forget();
      c.close();
    },
    cancel: (reason) => {
      ended = true;
      forget();
      return reader.cancel(reason);
    },
  });
  register(() => {
    if (ended) return;
    ended = true;
    // What was read so far (the answer among it) is still delivered; nothing after it is read.
    controller?.close();
    void reader.cancel().catch(() => undefined);
  });
  return stream;
}
