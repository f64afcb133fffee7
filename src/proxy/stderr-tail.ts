import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../logging/logger.js';
import type { LossReporter } from './http-upstream-loss.js';

/** Lines of a child's stderr kept for the report when it exits (the cause is usually there). */
const KEPT_LINES = 20;
/** Each kept line is cut to this many characters (a stack frame or a JSON blob can be long). */
const LINE_CHARS = 300;

/** The last stderr lines of one upstream child, without stack frames. */
export class StderrTail {
  private readonly lines: string[] = [];

  push(line: string): void {
    // Stack frames push the message out of a short tail and say little to an operator.
    if (/^\s+at /.test(line)) return;
    this.lines.push(line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line.trim());
    if (this.lines.length > KEPT_LINES) this.lines.shift();
  }

  /**
   * `; its stderr ended with: <the last line naming an error> … <the last two lines>`, or '' when
   * the child wrote nothing. Node prints "Error: Cannot find module ..." well before its last line.
   */
  describe(): string {
    if (this.lines.length === 0) return '';
    const last = this.lines.slice(-2);
    const error = [...this.lines].reverse().find((l) => /error/i.test(l));
    const shown = error === undefined || last.includes(error) ? last : [error, '…', ...last];
    return `; its stderr ended with: ${shown.join(' | ')}`;
  }
}

/**
 * A logger that also keeps the child's stderr lines (logged at debug by the transport as
 * `upstream stderr`) in `tail`, whatever the log level, so they can be shown when it exits.
 */
export function stderrTailLogger(logger: Logger, tail: StderrTail): Logger {
  const spy = Object.create(logger) as Logger;
  spy.debug = ((obj: unknown, msg?: string, ...rest: unknown[]) => {
    if (msg === 'upstream stderr' && typeof (obj as { stderr?: unknown } | null)?.stderr === 'string') tail.push((obj as { stderr: string }).stderr);
    return (logger.debug as (...a: unknown[]) => void)(obj, msg, ...rest);
  }) as Logger['debug'];
  return spy;
}

/**
 * When a stdio child exits, reports the loss with its last stderr lines through `onLost` before
 * the plain close, so "closed unexpectedly during start-up" says why ("Cannot find module ...")
 * without debug logging. The connection handles the first report; the plain close that follows
 * finds the loss already handled.
 */
export function reportExitWithStderr(transport: Transport, tail: StderrTail, onLost: LossReporter): void {
  let handler: (() => void) | undefined;
  Object.defineProperty(transport, 'onclose', {
    configurable: true,
    get: () => () => {
      const stderr = tail.describe();
      if (stderr !== '') onLost(`closed unexpectedly${stderr}`);
      handler?.();
    },
    set: (h: (() => void) | undefined) => {
      handler = h;
    },
  });
}
