import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpListen } from '../config/config-schema.js';
import { errorResponse, RPC, validateMessage, type RpcMessage } from './json-rpc.js';

/** Writes a JSON-RPC error as an HTTP response. Nothing is forwarded after this. */
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(errorResponse(null, code, message));
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
}

/** Host values accepted by default: the bound address plus the loopback names. */
export function defaultAllowedHosts(listen: HttpListen, port: number): string[] {
  return [...new Set([`${listen.host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])];
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
  | { ok: true; message: RpcMessage }
  | { ok: false; status: number; code: number; reason: string };

/**
 * Reads one POST body with a hard size bound, then parses and validates it. Oversized is 413
 * (read stops at the bound), malformed JSON is -32700, a batch or non-message is -32600.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) return { ok: false, status: 413, code: RPC.invalidRequest, reason: `body exceeds ${maxBytes} bytes` };
  const body = await collect(req, maxBytes);
  if (body === undefined) return { ok: false, status: 413, code: RPC.invalidRequest, reason: `body exceeds ${maxBytes} bytes` };
  const chunks = [body];
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return { ok: false, status: 400, code: RPC.parseError, reason: 'Parse error' };
  }
  const checked = validateMessage(value);
  if (!checked.ok) return { ok: false, status: 400, code: RPC.invalidRequest, reason: `Invalid Request: ${checked.reason}` };
  return { ok: true, message: checked.message };
}

/** Collects the body; past the bound the rest is discarded unread (undefined = too large). */
function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      chunks.length = 0;
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(size > maxBytes ? undefined : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
