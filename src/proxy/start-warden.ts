import { randomUUID } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { AuditSink } from '../audit/audit-sink.js';
import type { WardenConfig } from '../config/config-schema.js';
import type { Authenticator } from '../core/authenticator.js';
import type { Guard, SessionInfo, StandingOccasion } from '../core/tool-call.js';
import { WARDEN_VERSION } from '../core/warden-version.js';
import type { Logger } from '../logging/logger.js';
import { announceListChanged, type AnnouncedList } from './announce-list-changed.js';
import { startHttpListener, type HttpListener } from './http-listener.js';
import { StdioDownstream } from './stdio-downstream.js';
import { endRevokedSubscriptions, recheckSubscriptions } from './standing-subscriptions.js';
import { WardenRuntime } from './warden-runtime.js';

export interface StartWardenOptions {
  readonly config: WardenConfig;
  /** Path of the config file, for messages. */
  readonly configFile: string;
  readonly authenticator: Authenticator;
  readonly guard: Guard;
  readonly audit?: AuditSink;
  readonly logger: Logger;
  /** Streams for stdio mode; default process.stdin/stdout. */
  readonly stdio?: { readonly input: Readable; readonly output: Writable };
  readonly serverInfo?: { name: string; version: string };
}

export interface WardenHandle {
  /** Stops listeners, ends every session and stops every upstream child. */
  close(): Promise<void>;
  /** Ends one downstream session (HTTP: terminated; stdio: closed). False when unknown. */
  closeSession(sessionId: string, reason: string): Promise<boolean>;
  /** Sessions that completed `initialize`. */
  listSessions(): SessionInfo[];
  /** Sends `notifications/<list>/list_changed` for each list to every session that was promised it; returns how many were sent. */
  announceListsChanged(lists: Iterable<AnnouncedList>): number;
  /**
   * The caller of these sessions was revoked (event `eventId`): their standing resource
   * subscriptions end, each audited. Returns how many ended.
   */
  endRevokedSubscriptions(sessionIds: Iterable<string>, eventId: string): number;
  /**
   * A policy reload took effect (every session), or a security event changed these sessions'
   * caller: their standing subscriptions are re-judged; those no longer allowed end.
   */
  recheckSubscriptions(sessionIds?: Iterable<string>, occasion?: StandingOccasion): Promise<void>;
  /** Where the HTTP listener is bound, when listening on HTTP. */
  readonly httpAddress: { host: string; port: number; url: string } | undefined;
  /** Resolves when the stdio session ends (agent closed stdin or closeSession); undefined without stdio. */
  readonly stdioClosed: Promise<string> | undefined;
}

export const WARDEN_SERVER_INFO = { name: 'mcp-warden', version: WARDEN_VERSION };

/**
 * Starts the transparent proxy with an injected Authenticator and Guard. Every tools/call goes
 * through `guard.checkToolCall`; a throw or rejection blocks the call.
 */
export async function startWarden(options: StartWardenOptions): Promise<WardenHandle> {
  const { config, logger } = options;
  const runtime = new WardenRuntime(config, options.authenticator, options.guard, options.audit, logger, options.serverInfo ?? WARDEN_SERVER_INFO);
  let http: HttpListener | undefined;
  if (config.listen.http) http = await startHttpListener(config.listen.http, runtime);
  let stdioClosed: Promise<string> | undefined;
  if (config.listen.stdio) {
    const sessionId = randomUUID();
    const { maxMessageBytes, maxBufferedOutputBytes } = config.limits;
    const channel = new StdioDownstream(options.stdio?.input ?? process.stdin, options.stdio?.output ?? stdoutStream(), maxMessageBytes, maxBufferedOutputBytes, logger.child({ sessionId }));
    stdioClosed = new Promise((resolve) => {
      runtime.createSession({ sessionId, channel, principal: undefined, remoteAddress: undefined, userAgent: undefined, onClosed: resolve });
    });
    channel.start();
  }
  logger.info({ configFile: options.configFile, upstreams: Object.keys(config.upstreams), http: http?.address.url, stdio: config.listen.stdio }, 'warden started');
  let closing: Promise<void> | undefined;
  return {
    httpAddress: http?.address,
    stdioClosed,
    listSessions: () => [...runtime.sessions.values()].flatMap((s) => (s.info ? [s.info] : [])),
    announceListsChanged: (lists) => [...lists].flatMap((list) => [...runtime.sessions.values()].filter((s) => announceListChanged(s, list))).length,
    endRevokedSubscriptions: (sessionIds, eventId) => {
      let ended = 0;
      for (const id of sessionIds) {
        const session = runtime.sessions.get(id);
        if (session) ended += endRevokedSubscriptions(session, eventId);
      }
      return ended;
    },
    recheckSubscriptions: async (sessionIds, occasion = 'policy_reload') => {
      const chosen = sessionIds === undefined ? [...runtime.sessions.values()] : [...sessionIds].flatMap((id) => runtime.sessions.get(id) ?? []);
      // One session after another: each yields between batches (standing-subscriptions.ts), and
      // all of them at once would judge a batch of every session in one turn of the event loop.
      for (const s of chosen) if (!s.isClosed) await recheckSubscriptions(s, occasion);
    },
    closeSession: async (sessionId, reason) => {
      const session = runtime.sessions.get(sessionId);
      if (!session) return false;
      await session.close(reason);
      return true;
    },
    close: () => {
      closing ??= (async () => {
        await http?.close();
        await Promise.allSettled([...runtime.sessions.values()].map((s) => s.close('warden_shutdown')));
        logger.info('warden stopped');
      })();
      return closing;
    },
  };
}

/**
 * Non-blocking writer for fd 1 when it is a pipe: Node makes process.stdout pipes synchronous,
 * and a blocking write(2) per message dominates the proxy's CPU profile. Also our own socket when
 * fd 1 is a socket (how Node and most agents spawn a child): process.stdout cannot be destroyed,
 * so an agent that stops reading would keep its unread output, and warden, alive forever.
 */
function stdoutStream(): Writable {
  try {
    const stat = fstatSync(1);
    if (stat.isFIFO() || stat.isSocket()) return new Socket({ fd: 1, readable: false, writable: true });
  } catch {
    // fall through to process.stdout
  }
  return process.stdout;
}
