import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../logging/logger.js';
import type { LossReporter } from './http-upstream-loss.js';
import { OutputBound, type OutputOverflow } from './output-bound.js';
import { LineAssembler } from './block-joiner.js';
import { StderrLines } from './stderr-lines.js';
import { WriteBatcher } from './write-batcher.js';
import { exitSummary } from './upstream-start-error.js';

export interface ChildSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string | undefined;
  /** Largest line accepted from the child; longer lines are discarded unparsed. */
  readonly maxMessageBytes: number;
  /** Output held for a child that does not read its stdin; past it the child counts as failed. */
  readonly maxBufferedOutputBytes: number;
}

/**
 * Stdio client transport for an upstream child process. Like the SDK's StdioClientTransport but
 * without per-message schema validation (the proxy routes loose JSON-RPC and forwards the rest
 * untouched), which is most of warden's per-call overhead. Child stderr goes to the log.
 */
export class ChildStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private child: ChildProcess | undefined;
  /** The unfinished line (see onData). */
  private readonly pending = new LineAssembler();
  /** UTF-8 bytes of `pending` (its length counts UTF-16 units: up to 3 bytes each). */
  private pendingBytes = 0;
  private closed = false;
  /** True while discarding the rest of an oversized line. */
  private skipping = false;
  private readonly writer: WriteBatcher;
  /** Keeps a multi-byte character split between two pipe reads whole (chunk.toString() made it U+FFFD). */
  private readonly decoder = new StringDecoder('utf8');

  /** `onLost` hears a child that stopped reading its stdin (an exit is reported through `onclose`). */
  constructor(private readonly name: string, private readonly spec: ChildSpec, private readonly logger: Logger, private readonly onLost: LossReporter = () => undefined) {
    this.writer = new WriteBatcher(() => this.child?.stdin ?? undefined, new OutputBound(spec.maxBufferedOutputBytes, this.onOverflow));
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.spec.command, [...this.spec.args], { env: this.spec.env, cwd: this.spec.cwd, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
      this.child = child;
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
        this.finish();
      });
      child.once('spawn', () => resolve());
      child.once('close', () => this.finish());
      child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
      child.stdin!.on('error', (err) => this.onerror?.(err));
      // Bounded per line (stderr-lines.ts): a child writing without newlines must not grow warden.
      const stderr = new StderrLines((line) => this.logger.debug({ upstream: this.name, stderr: line }, 'upstream stderr'));
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    });
  }

  /** How the child ended (`exited with code 1`, `was killed by SIGKILL`), or undefined while it runs. */
  exitSummary(): string | undefined {
    const child = this.child;
    return child ? exitSummary(child.exitCode, child.signalCode) : undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  send(message: JSONRPCMessage): Promise<void> {
    const err = this.sendNow(message);
    return err === undefined ? Promise.resolve() : Promise.reject(err);
  }

  /** send() without a promise: the error when the message was not taken, else undefined. */
  sendNow(message: JSONRPCMessage): Error | undefined {
    const stdin = this.child?.stdin;
    if (!stdin || this.closed) return new Error('upstream process is not running');
    let line: string;
    try {
      line = JSON.stringify(message) + '\n';
    } catch (err) {
      // A message nested beyond the stack (an agent's request): fail this send, like a dead pipe.
      return err instanceof Error ? err : new Error(String(err));
    }
    this.writer.push(line);
    return undefined;
  }

  /** Ends stdin, then SIGTERM after 2 s and SIGKILL after 4 s if the child is still alive. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.finish();
      return;
    }
    this.writer.flush();
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const wait = (ms: number) => Promise.race([exited, new Promise((r) => setTimeout(r, ms).unref())]);
    child.stdin?.end();
    await wait(2000);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await wait(2000);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.finish();
  }

  /**
   * The child stopped reading its stdin while warden kept writing (stuck or hostile): a failed
   * upstream, like a crash. Its unread input is dropped (stdin destroyed, which frees the buffer
   * now); the owner fails every in-flight request and restarts it through the crash path, whose
   * close() stops the process.
   */
  private readonly onOverflow = ({ bufferedBytes, limitBytes }: OutputOverflow): void => {
    this.logger.error({ upstream: this.name, bufferedBytes, limitBytes }, 'upstream is not reading its input; treating it as failed');
    this.child?.stdin?.destroy();
    try {
      this.onLost(`is not reading its input (over ${limitBytes} bytes waiting)`);
    } catch (err) {
      // This runs in the write batcher's microtask, where a throw would end warden for every session.
      this.logger.error({ upstream: this.name, err: String(err) }, 'failing the upstream after its input overflowed threw');
    }
  };

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }

  /**
   * Only the new read is searched for newlines; the unfinished line is held by a LineAssembler and
   * joined once, when its newline arrives. Joining the held text with every read and searching
   * all of it again was quadratic in the line's length: one 30 MB line (under the default bound)
   * cost seconds of CPU in the process every session shares, and an upstream could send them
   * for ever.
   */
  private onData(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const tail = text.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false; // the end of the oversized line
        continue;
      }
      const line = this.pending.length === 0 ? tail : this.pending.take(tail);
      this.pendingBytes = 0;
      if (this.overBound(line)) this.rejectOversized();
      else if (line.length > 0 && line !== '\r') this.deliver(line);
    }
    this.hold(text.slice(start));
  }

  /** Keeps the start of an unfinished line; past the bound it is dropped and skipped to its end. */
  private hold(part: string): void {
    if (this.skipping || part.length === 0) return;
    this.pending.add(part);
    this.pendingBytes += Buffer.byteLength(part, 'utf8');
    if (this.pendingBytes <= this.spec.maxMessageBytes) return;
    this.pending.clear();
    this.pendingBytes = 0;
    this.skipping = true;
    this.rejectOversized();
  }

  /**
   * Whether a line is over `maxMessageBytes`, counted in UTF-8 bytes as the limit says: a string's
   * length counts UTF-16 units, and a line of three-byte characters (CJK, `€`) passed at up to three
   * times the bound. Counted only when the units alone cannot tell (at most 3 bytes per unit), so
   * an ordinary message pays one comparison.
   */
  private overBound(line: string): boolean {
    const max = this.spec.maxMessageBytes;
    return line.length > max || (line.length * 3 > max && Buffer.byteLength(line, 'utf8') > max);
  }

  private rejectOversized(): void {
    this.logger.error({ upstream: this.name, limit: this.spec.maxMessageBytes }, 'upstream message too large; discarded');
    this.writer.push(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'message too large' } }) + '\n');
  }

  private deliver(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A server printing non-protocol text on stdout: answered -32700, logged, never forwarded.
      this.logger.warn({ upstream: this.name, line: line.slice(0, 200) }, 'upstream wrote a non-JSON line');
      this.writer.push(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }) + '\n');
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.logger.warn({ upstream: this.name }, 'upstream wrote a non-message JSON value (or a batch)');
      this.writer.push(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } }) + '\n');
      return;
    }
    this.onmessage?.(value as JSONRPCMessage);
  }
}
