import type { Server } from 'node:http';
import type { HttpListen } from '../config/config-schema.js';
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

/** maxConnections when not configured never goes below this (the old fixed default): headroom for connections not yet authenticated. */
export const MIN_DEFAULT_MAX_CONNECTIONS = 1024;
/** The schema's bound on maxConnections. */
const MAX_CONNECTIONS = 1_000_000;

type ConnectionLimits = Pick<HttpListen, 'maxConnections' | 'maxSessions' | 'maxRequestsInFlightPerSession'>;

/**
 * Connections the session and request limits allow agents to hold at once: over HTTP/1.1 every
 * request in flight holds a connection (its answer streams on it), and every session its GET
 * stream. 64 × (64 + 1) = 4,160 at the defaults.
 */
export function connectionsSessionsMayHold(listen: Omit<ConnectionLimits, 'maxConnections'>): number {
  return listen.maxSessions * (listen.maxRequestsInFlightPerSession + 1);
}

/**
 * listen.http.maxConnections, or by default what the sessions may hold (at least 1,024): a fixed
 * default below it (it was 1,024) had a load within the session and request limits meet the
 * connection cap first, its connections closed unanswered, and the operator looking at the wrong
 * limit.
 */
export function connectionCap(listen: ConnectionLimits): number {
  return listen.maxConnections ?? Math.min(MAX_CONNECTIONS, Math.max(MIN_DEFAULT_MAX_CONNECTIONS, connectionsSessionsMayHold(listen)));
}

/**
 * At start-up: a maxConnections set below what the sessions may hold is allowed (an operator may
 * bound file descriptors harder on purpose) but says so, naming the keys, since agents within
 * their limits will then see connections closed without an answer.
 */
export function warnIfConnectionsBelowSessions(listen: ConnectionLimits, logger: Logger): void {
  const need = connectionsSessionsMayHold(listen);
  if (listen.maxConnections === undefined || listen.maxConnections >= need) return;
  logger.warn(
    { maxConnections: listen.maxConnections, maxSessions: listen.maxSessions, maxRequestsInFlightPerSession: listen.maxRequestsInFlightPerSession, sessionsMayHold: need },
    `listen.http.maxConnections (${listen.maxConnections}) is below the ${need} connections listen.http.maxSessions × (maxRequestsInFlightPerSession + 1) allow agents to hold: a load within the session and request limits will have connections closed unanswered at the connection cap. Raise maxConnections (and the open-files limit), or lower maxSessions or maxRequestsInFlightPerSession`,
  );
}

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
