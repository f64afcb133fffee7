import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpListen } from '../config/config-schema.js';
import { auditEvent, principalSummary } from '../audit/events.js';
import { sha256Hex } from '../core/canonical-json.js';
import { listenFailure } from '../core/listen-failure.js';
import { protectedResourceMetadataPath } from '../identity/www-authenticate.js';
import { principalKey, type Principal } from '../core/principal.js';
import { sameSessionBinding, sessionBindingKey } from './session-binding.js';
import { RPC, errorResponse, isRequest, type RpcId, type RpcRequest } from './json-rpc.js';
import { checkSessionCaps, pickEvictable, type SessionCapRefusal } from './session-caps.js';
import { ABANDONED_REASON } from './http-abandoned-calls.js';
import { BodyBudget } from './body-budget.js';
import { connectionCap, limitConnections, TIMEOUT_CHECK_MS, warnIfConnectionsBelowSessions } from './connection-limit.js';
import { warnIfDescriptorsShort } from './open-files-limit.js';
import { limitConnectionsPerAddress } from './connections-per-address.js';
import { IdentityFailureSampler } from './identity-failure-sampler.js';
import { bytesRefusal, countRefusal, type InFlightRefusal } from './in-flight-refusal.js';
import { HttpChannel } from './http-channel.js';
import { checkHostAndOrigin, defaultAllowedHosts, readBody, sendJson, sendRpcError, type BodyResult } from './http-guards.js';
import type { ProxySession } from './proxy-session.js';
import { RequestBytesInFlight, type RequestCharge } from './request-bytes-in-flight.js';
import { RequestsInFlight } from './requests-in-flight.js';
import type { WardenRuntime } from './warden-runtime.js';

const MCP_PATH = '/mcp';
const METADATA_PATHS = new Set(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']);

interface HttpSession {
  readonly session: ProxySession;
  readonly channel: HttpChannel;
  /** Requests of the session not yet answered; bounded by maxRequestsInFlightPerSession. */
  readonly requests: RequestsInFlight;
  /** issuer|user|actor of the principal that opened the session (what caps and budgets count by). */
  readonly owner: string;
  /** The principal that opened the session: every request must present the same binding (sameSessionBinding: owner, chain and client). */
  readonly openedBy: Principal;
  /** That binding as a key (sessionBindingKey), for counting a client's sessions. */
  readonly binding: string;
  /** The owner's principal as of its latest request (a refreshed token replaces it); audited on a hijack attempt. */
  principal: Principal;
  /** Last request, or the last of its responses / streams to close. */
  lastSeen: number;
  /** POSTs whose response is still open: a session with one is busy, never idle. */
  active: number;
  /** Open GET streams: the agent is still listening. */
  streams: number;
}

export interface HttpListener {
  readonly address: { host: string; port: number; url: string };
  close(): Promise<void>;
}

/** What to do when listen.http's port is taken (a second warden from the same config, usually). */
const HTTP_PORT_TAKEN =
  'another program, or another warden started from this config, listens there. Stop it, or give this warden another listen.http.port (0 picks a free one, logged at start-up)';

/**
 * Streamable HTTP front door: many concurrent agent sessions, each with its own upstream
 * connections. Every request is checked (Host/Origin, authentication, session ownership, size,
 * JSON, batches) before the SDK transport sees it.
 */
export async function startHttpListener(listen: HttpListen, runtime: WardenRuntime): Promise<HttpListener> {
  const sessions = new Map<string, HttpSession>();
  let allowedHosts = listen.allowedHosts ?? [];
  // Bodies being read at once, per principal and in all (maxBodyBytes alone bounds only one).
  const bodies = new BodyBudget(listen);
  // Bytes of admitted requests not yet ended, per principal across its sessions (the count bound
  // alone let one principal hold several GB of parsed bodies in calls that wait).
  const requestBytes = new RequestBytesInFlight(listen.maxRequestBytesInFlightPerPrincipal, listen.maxRequestBytesInFlight);
  // Rejected requests come from anyone who can reach the port: their records are bounded per window.
  const failures = new IdentityFailureSampler((summary) => {
    runtime.audit(auditEvent('identity.failures_suppressed', summary));
    runtime.logger.warn({ count: summary.count, sources: summary.sources, top: summary.top }, 'many failed authentications: recorded in the audit as one summary');
  });
  // Node checks its header and request timeouts only every connectionsCheckingInterval (30 s by default).
  const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_MS }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      runtime.logger.error({ err: String(err) }, 'http request failed');
      if (!res.headersSent) sendRpcError(res, 500, RPC.internalError, 'internal error');
    });
  });
  warnIfConnectionsBelowSessions(listen, runtime.logger);
  const upstreams = Object.values(runtime.config.upstreams);
  const stdioUpstreams = upstreams.filter((u) => 'command' in u).length;
  warnIfDescriptorsShort({ maxConnections: connectionCap(listen), maxSessions: listen.maxSessions, stdioUpstreams, httpUpstreams: upstreams.length - stdioUpstreams }, runtime.logger);
  limitConnections(server, connectionCap(listen), runtime.logger);
  limitConnectionsPerAddress(server, listen.maxConnectionsPerAddress, runtime.logger);

  /**
   * Where the RFC 9728 metadata is served: the default paths, and the one the 401's
   * `resource_metadata` names, derived from identity.resource. Behind a reverse proxy the resource
   * often has another path (`https://h/api/mcp`), and clients follow the header to
   * `/.well-known/oauth-protected-resource/api/mcp`: served only at the defaults, it was a 404.
   */
  function isMetadataPath(path: string): boolean {
    if (METADATA_PATHS.has(path)) return true;
    const resource = runtime.authenticator.protectedResourceMetadata?.()?.resource;
    return typeof resource === 'string' && path === protectedResourceMetadataPath(resource);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const blocked = checkHostAndOrigin(req, allowedHosts, listen.allowedOrigins);
    if (blocked) return sendRpcError(res, 403, RPC.invalidRequest, blocked);
    if (req.method === 'GET' && isMetadataPath(path)) {
      const metadata = runtime.authenticator.protectedResourceMetadata?.();
      return metadata ? sendJson(res, 200, metadata) : sendJson(res, 404, { error: 'not_found' });
    }
    if (path !== MCP_PATH) return sendJson(res, 404, { error: 'not_found' });
    const auth = await runtime.authenticator.authenticateHttp(req.headers.authorization);
    if (!auth.ok) {
      if (failures.admit(req.socket.remoteAddress, auth.reason)) {
        runtime.audit(auditEvent('identity.failed', { reason: auth.reason, transport: 'http', remoteAddress: req.socket.remoteAddress, tokenDigest: tokenDigestOf(req.headers.authorization) }));
      }
      const headers: Record<string, string> = auth.wwwAuthenticate ? { 'www-authenticate': auth.wwwAuthenticate } : {};
      return sendJson(res, auth.status, { error: auth.status === 403 ? 'insufficient_scope' : 'invalid_token', error_description: auth.description, reason: auth.reason }, headers);
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') return onSession(req, res, sessionId, auth.principal);
    if (req.method !== 'POST') return sendRpcError(res, 400, RPC.invalidRequest, 'Mcp-Session-Id header is required');
    const body = await readBody(req, listen.maxBodyBytes, bodies.lease(principalKey(auth.principal)));
    if (!body.ok) return refuseBody(res, body);
    if (!isRequest(body.message) || body.message.method !== 'initialize') {
      return sendRpcError(res, 400, RPC.invalidRequest, 'Mcp-Session-Id header is required');
    }
    const refusal = admitSession(auth.principal);
    if (refusal) return refuseSession(req, res, body.message.id, auth.principal, refusal);
    const entry = openSession(req, auth.principal);
    trackActive(entry, res);
    await entry.channel.handleRequest(req, res, body.message);
  }

  async function onSession(req: IncomingMessage, res: ServerResponse, sessionId: string, principal: Principal): Promise<void> {
    const entry = sessions.get(sessionId);
    // A session being closed stays in the map until its upstreams have stopped (seconds): it is
    // already gone for the agent. Handed on, a call would be judged (an approval asked for) on a
    // session whose in-flight calls were already cancelled, e.g. one an operator just revoked.
    if (!entry || entry.session.isClosed) return sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found');
    if (!sameSessionBinding(principal, entry.openedBy)) {
      // A valid token for someone else must not ride on this session (session hijack).
      runtime.audit(auditEvent('session.hijack_rejected', { sessionId, expected: principalSummary(entry.principal), presented: principalSummary(principal), remoteAddress: req.socket.remoteAddress }));
      return sendJson(res, 403, { error: 'forbidden', error_description: 'session belongs to another principal' });
    }
    entry.lastSeen = Date.now();
    entry.session.principal = principal;
    entry.principal = principal;
    if (req.method !== 'POST') {
      if (req.method === 'GET') trackStream(entry, res);
      return entry.channel.handleRequest(req, res);
    }
    trackActive(entry, res);
    const body = await readBody(req, listen.maxBodyBytes, bodies.lease(entry.owner));
    if (!body.ok) return refuseBody(res, body);
    // Closed while its body was read (slow bodies take seconds): as above.
    if (entry.session.isClosed) return sendRpcError(res, 404, RPC.sessionNotFound, 'Session not found');
    if (!isRequest(body.message)) return entry.channel.handleRequest(req, res, body.message);
    // Refused here, never handed to the transport: the SDK's transport maps each request id to the
    // stream of the POST that carried it, so a second POST under the id of a request still held
    // took that mapping (the held request's answer then had no stream to go to) and its refusal
    // ended the watch on the held request's stream (closing it no longer withdrew the request).
    if (entry.requests.holds(body.message.id)) return sendJson(res, 400, errorResponse(body.message.id, RPC.invalidRequest, 'Invalid Request: a request with this id is still in flight'));
    // Counted from here, before the transport sees it: simultaneous POSTs cannot all pass one check.
    if (entry.requests.reserve() === 'full') return refuseRequest(req, res, entry, body.message, countRefusal(entry.requests));
    // Notifications and responses (above) are not charged: nothing holds them once handed over,
    // and refusing an agent's answer would leave the call waiting on it stuck until its timeout.
    const charge = requestBytes.charge(entry.owner, body.bytes);
    if (typeof charge === 'string') {
      entry.requests.unreserve();
      return refuseRequest(req, res, entry, body.message, bytesRefusal(requestBytes, entry.owner, body.bytes, charge));
    }
    // The session takes the charge up when it receives the request, and releases it when the
    // request ends (or the session closes); one it never received is released at handover.
    entry.requests.expect(body.message.id, charge);
    await handOver(req, res, entry, body.message, charge);
  }

  /** Hands an admitted request to the transport; its place and any charge it did not pass on are freed once that is over. */
  async function handOver(req: IncomingMessage, res: ServerResponse, entry: HttpSession, request: RpcRequest, charge: RequestCharge): Promise<void> {
    let reserved = true;
    const handedOver = (): void => {
      if (!reserved) return;
      reserved = false;
      entry.requests.unreserve();
      entry.requests.handedOver(request.id, charge);
    };
    try {
      await entry.channel.handleRequest(req, res, request, handedOver);
    } finally {
      handedOver();
    }
  }

  /**
   * A request over a bound on requests in flight (the session's count, the principal's bytes):
   * refused before the transport (and so the session and any upstream) sees it, as a new session
   * over its principal's cap is.
   */
  function refuseRequest(req: IncomingMessage, res: ServerResponse, entry: HttpSession, request: RpcRequest, refusal: InFlightRefusal): void {
    const { reason, open, limit, bytes } = refusal;
    runtime.logger.warn({ sessionId: entry.session.id, method: request.method, reason, open, limit, bytes, user: entry.principal.user, actor: entry.principal.actor }, 'request refused: too much in flight');
    const sized = bytes === undefined ? {} : { bytes };
    runtime.audit(auditEvent('request.refused', { sessionId: entry.session.id, principal: principalSummary(entry.principal), method: request.method, reason, open, limit, ...sized, remoteAddress: req.socket.remoteAddress }));
    sendJson(res, refusal.status, errorResponse(request.id, RPC.upstreamClosed, refusal.message, { reason, limit }));
  }

  /**
   * Checks the caps for one more session of `principal`. At a cap, the same client's own
   * unattended session seen least recently (no request in flight, no GET stream: an agent that
   * went away without DELETE, as the SDK's close() does) is closed to make room, reason
   * `evicted_for_new_session`, instead of locking the client out. Sessions of other principals,
   * of the principal's other clients or chains (another app of the same user may just be between
   * two calls) and sessions still attended are never evicted: then the new one is refused.
   */
  function admitSession(principal: Principal): SessionCapRefusal | undefined {
    const who = { owner: principalKey(principal), binding: sessionBindingKey(principal) };
    for (;;) {
      const open = [...sessions.values()].filter((e) => !e.session.isClosed);
      const refusal = checkSessionCaps(open, who, listen);
      if (!refusal) return undefined;
      const victim = pickEvictable(open, who.binding);
      if (!victim) return refusal;
      runtime.logger.warn({ sessionId: victim.session.id, user: principal.user, actor: principal.actor, clientId: principal.clientId, cap: refusal.reason }, 'closing an unattended HTTP session to admit a new one of the same client');
      // isClosed turns true at once, so the loop cannot pick it twice; the close is audited
      // (session.closed) and stops its upstream processes in the background.
      void victim.session.close('evicted_for_new_session');
    }
  }

  function refuseSession(req: IncomingMessage, res: ServerResponse, id: RpcId, principal: Principal, refusal: SessionCapRefusal): void {
    runtime.logger.warn({ reason: refusal.reason, open: refusal.open, limit: refusal.limit, user: principal.user, actor: principal.actor }, 'new HTTP session refused');
    runtime.audit(auditEvent('session.refused', { reason: refusal.reason, principal: principalSummary(principal), open: refusal.open, limit: refusal.limit, remoteAddress: req.socket.remoteAddress }));
    sendJson(res, refusal.status, errorResponse(id, RPC.upstreamClosed, refusal.message));
  }

  function openSession(req: IncomingMessage, principal: Principal): HttpSession {
    const id = randomUUID();
    const requests = new RequestsInFlight(listen.maxRequestsInFlightPerSession);
    const channel = new HttpChannel({
      sessionId: id,
      maxBufferedOutputBytes: runtime.config.limits.maxBufferedOutputBytes,
      logger: runtime.logger,
      onDeleted: () => void entry.session.close('client_deleted'),
      onAbandoned: (requestId) => abandonCall(entry.session, requestId),
    });
    const session = runtime.createSession({
      sessionId: id,
      channel,
      principal,
      remoteAddress: req.socket.remoteAddress,
      userAgent: req.headers['user-agent'],
      requestsInFlight: requests,
      onClosed: () => sessions.delete(id),
    });
    const entry: HttpSession = { session, channel, requests, owner: principalKey(principal), openedBy: principal, binding: sessionBindingKey(principal), principal, lastSeen: Date.now(), active: 0, streams: 0 };
    sessions.set(id, entry);
    void channel.start();
    return entry;
  }

  // Two clocks: a session nobody is connected to (no request in flight, no GET stream) is most
  // likely an agent that went away without DELETE, and holds upstream processes: it goes after
  // detachedSessionIdleMs. One that still holds its GET stream goes after sessionIdleMs.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const entry of sessions.values()) {
      if (entry.active > 0) continue;
      if (entry.streams === 0 && entry.lastSeen < now - listen.detachedSessionIdleMs) void entry.session.close('detached_timeout');
      else if (entry.lastSeen < now - listen.sessionIdleMs) void entry.session.close('idle_timeout');
    }
  }, Math.min(listen.sessionIdleMs, listen.detachedSessionIdleMs, 60_000));
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenFailure(err, 'listen.http', listen.host, listen.port, HTTP_PORT_TAKEN)));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (!listen.allowedHosts) allowedHosts = defaultAllowedHosts(listen, port);
  const hostForUrl = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    address: { host: listen.host, port, url: `http://${hostForUrl}:${port}${MCP_PATH}` },
    close: async () => {
      clearInterval(sweep);
      await Promise.allSettled([...sessions.values()].map((e) => e.session.close('warden_shutdown')));
      server.closeAllConnections();
      await closeServer(server);
      failures.close();
    },
  };
}

/**
 * Counts a POST as in flight until its response closes (answered, or the connection dropped).
 * Idleness is measured from the end of the last request: a call running longer than
 * sessionIdleMs (an initialize under load, a call waiting for a human) must not lose its session.
 * GET streams only decide which idle clock applies (see trackStream): a client that only holds its
 * notification stream open still idles out after sessionIdleMs.
 */
function trackActive(entry: HttpSession, res: ServerResponse): void {
  entry.active += 1;
  res.once('close', () => {
    entry.active -= 1;
    entry.lastSeen = Date.now();
  });
}

/** Counts a GET stream as open until it closes; its closing starts the detached clock. */
function trackStream(entry: HttpSession, res: ServerResponse): void {
  entry.streams += 1;
  res.once('close', () => {
    entry.streams -= 1;
    entry.lastSeen = Date.now();
  });
}

/**
 * The agent can no longer receive request `requestId`'s answer. A tool call still being judged
 * (its in-flight entry has no upstream id yet: waiting for an approval or a throttle) is cancelled
 * as if the agent had sent `notifications/cancelled`, minus the upstream cancel (nothing was
 * forwarded). Returns false when the session does not hold the request yet.
 */
function abandonCall(session: ProxySession, requestId: RpcId): boolean {
  const entry = session.inFlight.get(requestId);
  if (!entry) return false;
  if (entry.upstreamId === -1) {
    session.inFlight.delete(requestId);
    session.requestEnded(requestId); // never answered now
    entry.onCancel?.(ABANDONED_REASON);
  }
  return true;
}

/** Answers a body that was not read to its end or not valid; the connection closes when unread data may follow. */
function refuseBody(res: ServerResponse, body: Extract<BodyResult, { ok: false }>): void {
  const unread = body.status === 413 || body.status === 429 || body.status === 503;
  sendRpcError(res, body.status, body.code, body.reason, unread ? { connection: 'close' } : {});
}

/** A digest of the presented bearer token for the audit (never the token itself). */
function tokenDigestOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.slice(0, 7).toLowerCase() !== 'bearer ' || authorization.length === 7) return undefined;
  return `sha256:${sha256Hex(authorization.slice(7))}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
