import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../logging/logger.js';
import type { DownstreamChannel } from './downstream-channel.js';
import { OutputBound, type OutputOverflow } from './output-bound.js';
import { WriteBatcher } from './write-batcher.js';
import { errorResponse, RPC, validateMessage, type RpcId, type RpcMessage } from './json-rpc.js';

/**
 * Newline-delimited JSON-RPC over the agent's stdin/stdout. Own framing (not the SDK's
 * StdioServerTransport) because malformed, oversized and batch messages must be answered with
 * -32700 / -32600 instead of being dropped, and must never stop the stream.
 */
export class StdioDownstream implements DownstreamChannel {
  readonly transport = 'stdio' as const;
  onmessage?: (message: RpcMessage) => void;
  onclose?: (reason?: string) => void;
  private buffer: Buffer[] = [];
  private bufferedBytes = 0;
  /** True while discarding the rest of an oversized line. */
  private skipping = false;
  private closed = false;
  private readonly writer: WriteBatcher;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxMessageBytes: number,
    maxBufferedOutputBytes: number,
    private readonly logger: Logger,
  ) {
    this.writer = new WriteBatcher(() => this.output, new OutputBound(maxBufferedOutputBytes, this.onOverflow));
  }

  start(): void {
    this.input.on('data', this.onData);
    this.input.on('end', () => this.onEnd());
    this.input.on('error', () => this.onEnd());
    // The agent went away (EPIPE): end the session instead of crashing on an unhandled 'error'.
    this.output.on('error', (err: Error) => {
      this.logger.info({ err: err.message }, 'agent output closed');
      this.onEnd();
    });
  }

  send(message: RpcMessage, _related?: RpcId): void {
    if (this.closed) return;
    this.writer.push(JSON.stringify(message) + '\n');
  }

  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.writer.flush();
    this.logger.info({ reason }, 'closing stdio session');
    this.onEnd();
  }

  private readonly onEnd = (reason?: string): void => {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.onclose?.(reason);
  };

  /**
   * The agent stopped reading its stdin while warden kept writing: fail closed by ending the
   * session, as when the agent goes away. The unread output is dropped with the stream (destroyed,
   * not ended: an end would wait for a reader that never comes and keep warden from exiting).
   */
  private readonly onOverflow = ({ bufferedBytes, limitBytes }: OutputOverflow): void => {
    this.logger.warn({ bufferedBytes, limitBytes }, 'agent is not reading its output; closing the session');
    this.output.destroy();
    this.onEnd('output_overflow');
  };

  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (this.bufferedBytes === 0 && !this.skipping) {
        this.wholeLine(chunk, start, nl);
      } else {
        this.append(chunk.subarray(start, nl));
        this.finishLine();
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
  };

  /**
   * A line that lies whole in one chunk (the usual case): decoded straight from the chunk, without
   * a Buffer view and a copy per line. Same outcome as append() + finishLine().
   */
  private wholeLine(chunk: Buffer, start: number, end: number): void {
    if (end - start > this.maxMessageBytes) {
      this.send(errorResponse(null, RPC.invalidRequest, `message exceeds ${this.maxMessageBytes} bytes`));
      return;
    }
    const text = chunk.toString('utf8', start, end).trim();
    if (text !== '') this.deliver(text);
  }

  private append(part: Buffer): void {
    if (this.skipping || part.length === 0) return;
    if (this.bufferedBytes + part.length > this.maxMessageBytes) {
      // Oversized: answer once and drop the rest of the line without buffering it.
      this.buffer = [];
      this.bufferedBytes = 0;
      this.skipping = true;
      this.send(errorResponse(null, RPC.invalidRequest, `message exceeds ${this.maxMessageBytes} bytes`));
      return;
    }
    this.buffer.push(part);
    this.bufferedBytes += part.length;
  }

  private finishLine(): void {
    const wasSkipping = this.skipping;
    this.skipping = false;
    if (wasSkipping) return;
    const line = this.buffer.length === 1 ? this.buffer[0]! : Buffer.concat(this.buffer);
    this.buffer = [];
    this.bufferedBytes = 0;
    const text = line.toString('utf8').trim();
    if (text === '') return;
    this.deliver(text);
  }

  private deliver(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.send(errorResponse(null, RPC.parseError, 'Parse error'));
      return;
    }
    const checked = validateMessage(value);
    if (!checked.ok) {
      this.send(errorResponse(checked.id, RPC.invalidRequest, `Invalid Request: ${checked.reason}`));
      return;
    }
    this.onmessage?.(checked.message);
  }
}
