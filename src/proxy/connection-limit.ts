import type { Server } from 'node:http';
import type { Logger } from '../logging/logger.js';

/** How often Node looks for connections past their header or request timeout (its default is 30 s). */
export const TIMEOUT_CHECK_MS = 1_000;
/** Time a client has to send its request headers; Node's default is 60 s. */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Time a client has to send a whole request, body included (bodies are bounded by maxBodyBytes);
 * Node's default is 5 minutes. Only receiving: a call's answer may stream for as long as it runs.
 */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Bounds what unauthenticated clients can hold: at most `max` connections at once (Node closes a
 * new one beyond it, `drop`), and each must deliver its headers and its request within the
 * timeouts above. Clients that open connections and send nothing, or a byte at a time
 * (slowloris), otherwise hold a file descriptor each for minutes, and a process out of them can
 * no longer serve its stdio session, start upstream children, or write its audit file. Refusals
 * are logged once per episode, not once per connection.
 */
export function limitConnections(server: Server, max: number, logger: Logger): void {
  server.maxConnections = max;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  let dropped = 0;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    if (dropped === 0) logger.warn({ limit: max, remoteAddress: data?.remoteAddress }, 'HTTP connection limit reached (listen.http.maxConnections); closing new connections');
    dropped += 1;
  });
  server.on('connection', () => {
    if (dropped === 0) return;
    logger.warn({ dropped, limit: max }, 'HTTP connections accepted again; some were closed at the limit');
    dropped = 0;
  });
}
