import { mkdirSync, openSync } from 'node:fs';
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
