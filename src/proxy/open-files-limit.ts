import { readFileSync } from 'node:fs';
import type { Logger } from '../logging/logger.js';

/** Descriptors warden itself holds whatever the load: stdio, the audit and log files, watchers, the control socket, V8. */
const OWN_DESCRIPTORS = 64;
/** Each session's stdio upstream is a child with three pipes. */
const PIPES_PER_STDIO_UPSTREAM = 3;
/** Each session's HTTP upstream holds its standing GET stream and at least one connection for requests. */
const SOCKETS_PER_HTTP_UPSTREAM = 2;

/**
 * The soft open-files limit of this process (Node raises it to the hard limit at start), read
 * from /proc/self/limits; undefined where that cannot be read (not Linux) or it is unlimited.
 */
export function openFilesLimit(readLimits: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let text: string;
  try {
    text = readLimits();
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  const n = soft === undefined ? NaN : Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export interface DescriptorNeeds {
  /** The connection cap in force (listen.http.maxConnections or its default). */
  readonly maxConnections: number;
  readonly maxSessions: number;
  /** Upstreams started as child processes, per session. */
  readonly stdioUpstreams: number;
  /** Streamable HTTP upstreams, per session. */
  readonly httpUpstreams?: number;
}

/** What warden may hold at its limits: every connection, every session's upstream pipes and sockets, and its own. */
export function descriptorsNeeded(needs: DescriptorNeeds): number {
  const perSession = needs.stdioUpstreams * PIPES_PER_STDIO_UPSTREAM + (needs.httpUpstreams ?? 0) * SOCKETS_PER_HTTP_UPSTREAM;
  return needs.maxConnections + needs.maxSessions * perSession + OWN_DESCRIPTORS;
}

/**
 * At start-up: a connection cap the open-files limit cannot back is no bound. Warden would run
 * out of descriptors first, and then fails what needs one (starting a session's upstreams,
 * reopening the audit file after rotation, the control socket) instead of refusing the extra
 * connection. Said once, naming the numbers and what to change; never fatal (the operator may
 * know the load stays far below).
 */
export function warnIfDescriptorsShort(needs: DescriptorNeeds, logger: Logger, limit = openFilesLimit()): void {
  if (limit === undefined) return;
  const need = descriptorsNeeded(needs);
  if (need <= limit) return;
  logger.warn(
    { openFilesLimit: limit, descriptorsNeeded: need, maxConnections: needs.maxConnections, maxSessions: needs.maxSessions, stdioUpstreams: needs.stdioUpstreams, httpUpstreams: needs.httpUpstreams ?? 0 },
    `the open-files limit (${limit}) is below the ${need} descriptors warden may need at its limits (listen.http.maxConnections ${needs.maxConnections} + maxSessions ${needs.maxSessions} × (${needs.stdioUpstreams} stdio upstream(s) × 3 pipes + ${needs.httpUpstreams ?? 0} HTTP upstream(s) × 2 sockets) + ${OWN_DESCRIPTORS} of its own): it would run out of file descriptors before the connection cap refuses anyone. Raise the limit (ulimit -n, LimitNOFILE=) or lower listen.http.maxConnections or maxSessions`,
  );
}
