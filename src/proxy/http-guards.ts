import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpListen } from '../config/config-schema.js';
import type { BodyBudgetRefusal, BodyLease } from './body-budget.js';
import { ChunkCollector } from './block-joiner.js';
import { errorResponse, RPC, validateMessage, type RpcMessage } from './json-rpc.js';

/** Writes a JSON-RPC error as an HTTP response. Nothing is forwarded after this. */
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, errorResponse(null, code, message), headers);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  closeIfUnread(res);
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
}

/**
 * Answered before its request's body was received to its end (refused on its Host, its token or
 * its session before warden reads the body): the connection closes after the answer. Kept alive,
 * Node's server reads and discards the rest of the body for as long as the client sends it (up to
 * its five-minute request timeout): anyone reaching the port, without a token, could keep warden's
 * one event loop parsing gigabytes of chunked body per connection.
 */
export function closeIfUnread(res: ServerResponse): void {
  if (!res.req.complete && !res.headersSent) res.setHeader('connection', 'close');
}

/**
 * Host values accepted by default: the bound address plus the loopback names. An IPv6 address is
 * bracketed, as a client writes it in Host (`[fd00::5]:8787`); unbracketed it matched no request.
 */
export function defaultAllowedHosts(listen: HttpListen, port: number): string[] {
  const bound = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return [...new Set([`${bound}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])];
}

/**
 * DNS-rebinding protection (CVE-2025-49596 class): a page on another origin must not reach a
 * local warden. Host must be allowlisted; Origin, when a browser sends one, too.
 */
export function checkHostAndOrigin(req: IncomingMessage, allowedHosts: readonly string[], allowedOrigins: readonly string[]): string | undefined {
  const host = req.headers.host;
  if (host === undefined || !allowedHosts.includes(host)) return `Host not allowed: ${host ?? '(none)'}`;
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigins.includes(origin)) return `Origin not allowed: ${origin}`;
  return undefined;
}

export type BodyResult =
  | { ok: true; message: RpcMessage; /** The body's size as received. */ bytes: number }
  | { ok: false; status: number; code: number; reason: string };

/**
 * Reads one POST body with a hard size bound, then parses and validates it. Oversized is 413
 * (read stops at the bound), malformed JSON is -32700, a batch or non-message is -32600. With a
 * `lease`, the bytes count against what the listener may hold of bodies at once (see
 * body-budget.ts): past it, reading stops too (429 / 503, -32000); the lease is released here.
 */
export async function readBody(req: IncomingMessage, maxBytes: number, lease?: BodyLease): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, code: RPC.invalidRequest, reason: `body exceeds ${maxBytes} bytes` } as const;
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) return tooLarge;
  let body: Collected;
  try {
    body = await collect(req, maxBytes, lease);
  } finally {
    lease?.release();
  }
  if (body.kind === 'too_large') return tooLarge;
  if (body.kind === 'refused') return { ok: false, status: body.refusal.status, code: RPC.upstreamClosed, reason: body.refusal.message };
  if (body.kind === 'aborted') return { ok: false, status: 400, code: RPC.invalidRequest, reason: 'request body ended early' };
  let value: unknown;
  try {
    value = JSON.parse(body.body.toString('utf8'));
  } catch {
    return { ok: false, status: 400, code: RPC.parseError, reason: 'Parse error' };
  }
  const checked = validateMessage(value);
  if (!checked.ok) return { ok: false, status: 400, code: RPC.invalidRequest, reason: `Invalid Request: ${checked.reason}` };
  return { ok: true, message: checked.message, bytes: body.body.length };
}

type Collected = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'refused'; refusal: BodyBudgetRefusal } | { kind: 'aborted' };

/**
 * Collects the body; past the size bound or the budget the rest is discarded unread. A request
 * whose connection closes before its end settles as `aborted`, so its lease is always released.
 */
function collect(req: IncomingMessage, maxBytes: number, lease: BodyLease | undefined): Promise<Collected> {
  return new Promise((resolve, reject) => {
    // Joined in blocks as they arrive, not kept one Buffer per chunk (see block-joiner.ts).
    const chunks = new ChunkCollector();
    let size = 0;
    const stop = (result: Collected): void => {
      req.off('data', onData);
      req.resume();
      chunks.clear();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) return stop({ kind: 'too_large' });
      const refusal = lease?.take(chunk.length);
      if (refusal) return stop({ kind: 'refused', refusal });
      chunks.add(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(size > maxBytes ? { kind: 'too_large' } : { kind: 'ok', body: chunks.concat() }));
    req.once('error', reject);
    // After 'end' this changes nothing (a promise settles once).
    req.once('close', () => resolve({ kind: 'aborted' }));
  });
}
