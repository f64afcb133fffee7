import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ChunkCollector } from './block-joiner.js';
import type { LossReporter } from './http-upstream-loss.js';

const LF = 10;
/** Bytes passed on at once at least (see messageBoundFetch); a chunk this large passes as it is. */
const BLOCK_BYTES = 64 * 1024;

/**
 * Applies `limits.maxUpstreamMessageBytes` to a Streamable HTTP upstream, as the stdio child
 * transport does per line. The SDK client reads a JSON answer whole (`response.json()`) and an
 * SSE event whole before parsing it, so without a bound one upstream answering without end would
 * grow the memory of the one warden process every session shares until it dies.
 *
 * A JSON (or any non-SSE) body counts as one message; an event stream is counted per event (bytes
 * since the last blank line). Past the bound the upstream is reported lost (every in-flight
 * request of it gets -32000 and a new session is started, as for a crashed child) and the body
 * errors, so nothing more of it is held.
 */
export function messageBoundFetch(base: FetchLike, maxBytes: number, onLost: LossReporter): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (!response.body) return response;
    const sse = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    const counter = sse ? new EventCounter() : undefined;
    let total = 0;
    const held = new ChunkCollector();
    const release = (controller: TransformStreamDefaultController<Uint8Array>): void => {
      if (held.length === 0) return;
      controller.enqueue(held.concat());
      held.clear();
    };
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          const largest = counter ? counter.add(chunk) : (total += chunk.length);
          if (largest > maxBytes) {
            held.clear();
            const reason = `sent a message over ${maxBytes} bytes`;
            onLost(reason);
            controller.error(new Error(`upstream ${reason}`));
            return;
          }
          // Passed on in blocks, not chunk by chunk: the SDK holds a JSON answer's chunks (fetch's
          // json()) and an unfinished SSE line's until they end, one object per chunk, so an
          // upstream dripping a byte per TCP segment made each byte cost ~190 bytes of memory
          // (block-joiner.ts). An SSE line is passed on as soon as it ends, so events still
          // arrive at once; a JSON answer is only read whole anyway.
          held.add(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if (held.length >= BLOCK_BYTES || (sse && chunk.includes(LF))) release(controller);
        },
        flush: release,
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * What the SDK's SSE parser holds per line of an event besides its bytes, until the event ends: it
 * joins data lines as `data + "\n" + line`, about 64 bytes of string objects per line (measured).
 * Counted against the bound so an event of many short lines (`data:x` a million times) cannot hold
 * ~9 times what its bytes say; an honest event is one line, for which this is nothing.
 */
const LINE_COST = 64;

/** Cost of the current SSE event: its bytes plus LINE_COST per line; events end at a blank line (LF LF or CRLF CRLF). */
class EventCounter {
  private bytes = 0;
  /** The last line break seen ended a line that had content, or none was seen yet. */
  private lineEmpty = false;

  /** Counts `chunk`; the largest event size reached within it (an event may end inside it). */
  add(chunk: Uint8Array): number {
    let largest = this.bytes;
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      const end = nl === -1 ? chunk.length : nl;
      const length = end - pos;
      // Only an empty line (or a lone CR before LF) keeps the "blank line" state.
      if (length > 1 || (length === 1 && chunk[pos] !== 13)) this.lineEmpty = false;
      this.bytes += length;
      if (nl === -1) return Math.max(largest, this.bytes);
      // A line with content also costs what the SDK's parser holds for it until the event ends.
      this.bytes += this.lineEmpty ? 1 : 1 + LINE_COST;
      largest = Math.max(largest, this.bytes);
      if (this.lineEmpty) this.bytes = 0; // a blank line: the event is complete
      this.lineEmpty = true;
      pos = nl + 1;
    }
  }
}
