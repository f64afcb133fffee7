import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Operational log (not the audit trail). In stdio mode stdout is the MCP protocol, so logs go to
 * stderr (fd 2) or a file, never stdout.
 */
export function createLogger(options: { level?: string; file?: string; name?: string } = {}): Logger {
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: false })
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
