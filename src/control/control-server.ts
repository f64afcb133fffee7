import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { AuditEvent } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Logger } from '../logging/logger.js';
import { listenFailure } from '../core/listen-failure.js';
import { IdentityFailureSampler } from '../proxy/identity-failure-sampler.js';
import { loadOrCreateAdminToken } from './admin-token.js';
import { AuthFailureLimiter, DEFAULT_AUTH_FAILURE_LIMITS } from './auth-failure-limiter.js';
import { failureSourceKey } from './source-key.js';
import { createCallerAuth, type ApproverCredential, type ApproverVerifier, type ControlCaller } from './caller-auth.js';
import type { ControlConfig } from './control-config.js';
import { findRoute, isStreamRoute, type HostedRoute, type StreamControlRoute } from './hosted-route.js';
import { checkHostAndOrigin, readJsonBody } from './request-checks.js';

export interface ControlServerOptions {
  readonly config: ControlConfig;
  readonly routes: readonly HostedRoute[];
  readonly logger: Logger;
  /** Named approver tokens (see resolveApproverCredentials). */
  readonly approvers?: readonly ApproverCredential[];
  /** Optional verifier for approver JWTs. */
  readonly verifyApprover?: ApproverVerifier;
  /** Admin credential already loaded; otherwise read/generated from config. */
  readonly adminToken?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Base for relative paths (token file, socket). Defaults to process.cwd(). */
  readonly baseDir?: string;
  /** Where failed authentications are recorded (sampled, see IdentityFailureSampler). */
  readonly audit?: (event: AuditEvent) => void;
}

export interface ControlServer {
  /** `http://127.0.0.1:PORT` or `unix:/path/to.sock`. */
  readonly url: string;
  readonly socketPath?: string;
  /** Where the admin credential is, when it lives in a file. */
  readonly adminTokenFile: string | undefined;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 15_000;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function openStream(route: StreamControlRoute, input: Parameters<StreamControlRoute['open']>[0], res: ServerResponse, closing: AbortSignal): void {
  const ac = new AbortController();
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': connected\n\n');
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  const end = (): void => {
    clearInterval(heartbeat);
    closing.removeEventListener('abort', end);
    if (!ac.signal.aborted) ac.abort();
    if (!res.writableEnded) res.end();
  };
  res.on('close', end);
  closing.addEventListener('abort', end, { once: true });
  route.open(input, {
    signal: ac.signal,
    send(event, data) {
      if (ac.signal.aborted) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
  });
}

/** Authentication with its guard rails: a back-off per source address, and sampled audit records. */
interface GuardedAuth {
  readonly check: (h: string | undefined) => Promise<ControlCaller | undefined>;
  readonly limiter: AuthFailureLimiter;
  readonly failures: IdentityFailureSampler;
  readonly audit: ((event: AuditEvent) => void) | undefined;
}

function refuseUnauthenticated(res: ServerResponse, g: GuardedAuth, reason: string, remoteAddress: string | undefined, lockedForMs = 0): void {
  if (g.audit && g.failures.admit(remoteAddress, reason)) {
    g.audit(auditEvent('identity.failed', { reason, transport: 'control', ...(remoteAddress !== undefined ? { remoteAddress } : {}), ...(lockedForMs > 0 ? { lockedForMs } : {}) }));
  }
  if (reason === 'locked_out') {
    const retryAfter = String(Math.max(1, Math.ceil(lockedForMs / 1000)));
    return sendJson(res, 429, { error: 'too_many_failures', message: `too many failed authentications from this address; retry in ${retryAfter} s` }, { 'retry-after': retryAfter });
  }
  sendJson(res, 401, { error: 'unauthorized', message: 'admin or approver bearer credential required' }, { 'www-authenticate': 'Bearer realm="warden-control"' });
}

/**
 * The caller, or undefined when the request was refused (401, or 429 while its address is locked
 * out: then the credential is not even looked at, a right one included, or the lock would only
 * slow down wrong guesses and the right one would still get through).
 */
async function authenticate(req: IncomingMessage, res: ServerResponse, g: GuardedAuth): Promise<ControlCaller | undefined> {
  const remoteAddress = req.socket.remoteAddress;
  // A Unix socket has no address: all its callers (the socket is mode 0600) share one budget.
  // IPv6 callers count per /64 (see failureSourceKey).
  const source = failureSourceKey(remoteAddress);
  if (req.headers.authorization === undefined) {
    // No credential is no guess: refused and recorded, but it does not count towards a lock-out.
    refuseUnauthenticated(res, g, 'token_missing', remoteAddress);
    return undefined;
  }
  const verdict = g.limiter.attempt(source);
  if (verdict.kind === 'locked') {
    refuseUnauthenticated(res, g, 'locked_out', remoteAddress, verdict.retryAfterMs);
    return undefined;
  }
  const caller = await g.check(req.headers.authorization);
  if (caller) {
    g.limiter.succeeded(source, verdict.ticket);
    return caller;
  }
  refuseUnauthenticated(res, g, 'credential_invalid', remoteAddress, verdict.lockoutMs);
  return undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse, o: ControlServerOptions, auth: GuardedAuth, closing: AbortSignal): Promise<void> {
  const failed = checkHostAndOrigin(req, { extraHosts: o.config.dangerouslyAllowNonLoopback ? [o.config.host] : [], allowedOrigins: o.config.allowedOrigins });
  if (failed) return sendJson(res, failed.status, { error: failed.error, message: failed.message });
  const caller = await authenticate(req, res, auth);
  if (!caller) return;
  const url = requestUrl(req.url);
  // Node's parser accepts request targets such as `//` that are no URL path at all: no route.
  if (url === undefined) return sendJson(res, 404, { error: 'not_found', message: 'no such route' });
  const found = findRoute(o.routes, req.method ?? 'GET', url.pathname);
  if (found === undefined) return sendJson(res, 404, { error: 'not_found', message: 'no such route' });
  if (found === 'method_not_allowed') return sendJson(res, 405, { error: 'method_not_allowed', message: 'method not allowed' });
  const { route, params } = found;
  if (caller.kind === 'approver' && !route.approverAllowed) {
    return sendJson(res, 403, { error: 'forbidden_role', message: 'this route needs the admin credential' });
  }
  if (isStreamRoute(route)) return openStream(route, { params, query: url.searchParams, caller, request: req }, res, closing);
  const body = await readJsonBody(req, o.config.maxBodyBytes);
  if (!body.ok) return sendJson(res, body.failure.status, { error: body.failure.error, message: body.failure.message });
  const out = await route.handle({ params, query: url.searchParams, body: body.body, caller, request: req });
  sendJson(res, out.status, out.body);
}

function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** What to do when control.port is taken: the default, port 0, cannot be. */
const CONTROL_PORT_TAKEN = 'another program, or another warden with this config, listens there. Leave control.port at 0 (the default: a free port, advertised in control-url beside the admin token) or choose another';

function listen(server: Server, config: ControlConfig, socketPath: string | undefined): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', (err) => reject(socketPath ? err : listenFailure(err, 'control.port', config.host, config.port, CONTROL_PORT_TAKEN)));
    const done = (): void => {
      server.off('error', reject);
      if (socketPath) {
        chmodSync(socketPath, 0o600); // only the owner may talk to the socket
        resolvePromise(`unix:${socketPath}`);
        return;
      }
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolvePromise(`http://${host}:${addr.port}`);
    };
    if (socketPath) server.listen(socketPath, done);
    else server.listen(config.port, config.host, done);
  });
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent: nothing to remove
  }
}

/**
 * Starts the local control API. Every request is checked for Host/Origin, then for the admin (or an
 * approver) bearer credential, before any route runs. JSON bodies only, bounded in size.
 */
export async function startControlServer(o: ControlServerOptions): Promise<ControlServer> {
  const baseDir = o.baseDir ?? process.cwd();
  const admin = o.adminToken !== undefined
    ? { token: o.adminToken, file: undefined, generated: false }
    : loadOrCreateAdminToken({ file: o.config.adminTokenFile, envName: o.config.adminTokenEnv, env: o.env, baseDir });
  if (admin.generated) o.logger.info({ file: admin.file }, 'generated control API admin token');
  const failures = new IdentityFailureSampler((summary) => {
    o.audit?.(auditEvent('identity.failures_suppressed', summary));
    o.logger.warn({ count: summary.count, sources: summary.sources, top: summary.top }, 'many failed control API authentications: recorded in the audit as one summary');
  }, Date.now, undefined, 'control');
  const auth: GuardedAuth = {
    check: createCallerAuth({ adminToken: admin.token, approvers: o.approvers, verifyApprover: o.verifyApprover }),
    limiter: new AuthFailureLimiter({ ...DEFAULT_AUTH_FAILURE_LIMITS, ...o.config.authFailures }),
    failures,
    audit: o.audit,
  };
  const closing = new AbortController();
  const server = createServer((req, res) => {
    handle(req, res, o, auth, closing.signal).catch((err: unknown) => {
      o.logger.error({ err }, 'control API route failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error' });
      else res.end();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const socketPath = o.config.socketPath ? resolvePath(baseDir, o.config.socketPath) : undefined;
  if (socketPath) removeStaleSocket(socketPath);
  // Logged by the caller (with the admin token file), once.
  const url = await listen(server, o.config, socketPath);
  return {
    url,
    ...(socketPath ? { socketPath } : {}),
    adminTokenFile: admin.file,
    close: () =>
      new Promise<void>((resolveClose) => {
        closing.abort();
        // The last window's suppressed failures are summarised, and no timer is left behind.
        failures.close();
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
