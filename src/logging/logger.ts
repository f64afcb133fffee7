import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Operational log (not the audit trail). In stdio mode stdout is the MCP protocol, so logs go to
 * stderr (fd 2) or a file, never stdout.
 */
export function createLogger(options: { level?: string; file?: string; name?: string } = {}): Logger {
  const destination = options.file
    ? pino.destination({ fd: openLogFile(options.file), sync: false })
    : pino.destination({ fd: 2, sync: false });
  dropOutputOnWriteError(destination, options.file);
  return pino(
    { name: options.name ?? 'warden', level: options.level ?? process.env.WARDEN_LOG_LEVEL ?? 'info' },
    destination,
  );
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
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
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
    const off = destination as unknown as Record<string, unknown>;
    off['write'] = () => true;
    off['flushSync'] = () => undefined;
    off['flush'] = (cb?: (err?: Error) => void) => cb?.();
    off['end'] = () => undefined;
    if (file === undefined) return; // stderr itself failed: nowhere left to say it
    try {
      writeSync(2, `warden: writing the log file ${file} failed (${err.code ?? err.message}); further log lines are dropped, the audit trail is unaffected\n`);
    } catch {
      // stderr is gone too
    }
  });
}
