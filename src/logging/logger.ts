import { openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import { makeDirectories } from '../core/make-directories.js';

export type { Logger };

/**
 * Operational log (not the audit trail). In stdio mode stdout is the MCP protocol, so logs go to
 * stderr (fd 2) or a file, never stdout.
 */
export function createLogger(options: { level?: string; file?: string; name?: string; maxBufferBytes?: number } = {}): Logger {
  const maxLength = options.maxBufferBytes ?? LOG_BUFFER_LIMIT_BYTES;
  const destination = options.file
    ? pino.destination({ fd: openLogFile(options.file), sync: false, maxLength })
    : pino.destination({ fd: 2, sync: false, maxLength });
  dropOutputOnWriteError(destination, options.file);
  const name = options.name ?? 'warden';
  countDroppedLines(destination, name);
  return pino({ name, level: options.level ?? process.env.WARDEN_LOG_LEVEL ?? 'info' }, destination);
}

/**
 * How much unwritten log output warden holds. An agent host that pipes warden's stderr and never
 * reads it (or a log file on a stalled disk) would otherwise make every later line pile up in
 * memory for as long as warden runs: a chatty upstream's stderr alone is megabytes a minute.
 * Past the limit lines are dropped, counted, and the count is logged once output flows again.
 */
export const LOG_BUFFER_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * sonic-boom emits `drop` for each line refused at the limit and `drain` once its buffer is
 * written. The notice goes straight to the destination (not through the logger, whose lines are
 * what is being dropped) as a pino-shaped warning line.
 */
function countDroppedLines(destination: Destination, name: string): void {
  let dropped = 0;
  destination.on('drop', () => {
    dropped += 1;
  });
  destination.on('drain', () => {
    if (dropped === 0) return;
    const line = { level: 40, time: Date.now(), pid: process.pid, name, droppedLines: dropped, msg: `${dropped} log line(s) dropped: the log output was not being read, and warden holds at most a bounded amount of unwritten log output` };
    dropped = 0;
    destination.write(`${JSON.stringify(line)}\n`);
  });
}

/** A logger that discards everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Opens the log file now, so a path that cannot be opened (a folder, no permission, a device)
 * throws here, at start-up, where the caller can name the config key. Opened by the async
 * destination instead, the failure arrived later as an unhandled error event that crashed warden
 * half-way through start-up (no `warden.stop`, an unclosed audit checkpoint).
 */
function openLogFile(file: string): number {
  makeDirectories(dirname(file), 0o700);
  return openSync(file, 'a');
}

type Destination = ReturnType<typeof pino.destination>;

/**
 * A failed write (a full disk, an I/O error) must not take warden down: the operational log is not
 * the decision path (the audit sink has its own fail-closed handling). Unhandled, the error event
 * crashed the process, and pino's exit hook then retried the unwritten lines forever (sonic-boom's
 * flushSync sleeps and retries on every error): a hung warden that ignores SIGTERM. On the first
 * error the destination is switched off (what pino does itself for EPIPE) and warden says so once
 * on stderr; the audit trail keeps recording.
 */
function dropOutputOnWriteError(destination: Destination, file: string | undefined): void {
  let failed = false;
  destination.on('error', (err: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    switchOff(destination);
    if (file === undefined) return; // stderr itself failed: nowhere left to say it
    try {
      writeSync(2, `warden: writing the log file ${file} failed (${err.code ?? err.message}); further log lines are dropped, the audit trail is unaffected\n`);
    } catch {
      // stderr is gone too
    }
  });
}

/** Turns a destination into a sink that accepts and drops everything (flush still calls back). */
function switchOff(destination: unknown): void {
  const off = destination as Record<string, unknown>;
  off['write'] = () => true;
  off['flushSync'] = () => undefined;
  off['flush'] = (cb?: (err?: Error) => void) => cb?.();
  off['end'] = () => undefined;
}

/**
 * The last step before warden exits: flushes the log, waiting at most `timeoutMs`, then switches
 * the destination off so nothing can be written or retried any more; resolves whether the flush
 * completed in time. A reader that never drains warden's stderr (an agent that pipes it and never
 * reads) keeps lines unwritten forever, and pino's exit hook retried them without end (sonic-boom's
 * flushSync sleeps and retries on EAGAIN): a warden that had stopped cleanly never exited.
 */
export async function finishLogger(logger: Logger, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  const flushed = new Promise<boolean>((done) => logger.flush(() => whenDrained(stream, () => done(true))));
  const late = new Promise<boolean>((done) => {
    timer = setTimeout(() => done(false), timeoutMs);
  });
  const inTime = await Promise.race([flushed, late]);
  clearTimeout(timer);
  switchOff(stream);
  return inTime;
}

/**
 * Calls `done` once the destination has written everything it was given. sonic-boom's flush(cb)
 * calls back at once with its default minLength of 0, even while an asynchronous write is still
 * in flight or lines wait behind it, and exiting then lost the last lines (`warden stopped`).
 * It emits `drain` when it has written its buffer; anything else counts as written.
 */
function whenDrained(stream: unknown, done: () => void): void {
  const s = stream as { _writing?: unknown; _len?: unknown; once?: (event: string, fn: () => void) => void };
  const busy = s._writing === true || (typeof s._len === 'number' && s._len > 0);
  if (busy && typeof s.once === 'function') s.once('drain', done);
  else done();
}
