import type { IncomingMessage } from 'node:http';
import { LOOPBACK_HOSTS } from './control-config.js';

/** Host name from a Host header (`[::1]:7391` → `::1`, `localhost:80` → `localhost`). */
export function hostnameOf(hostHeader: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2] ?? '').toLowerCase();
}

export type CheckFailure = { readonly status: number; readonly error: string; readonly message: string };

/**
 * DNS-rebinding defence (CVE-2025-49596 class): only loopback host names (plus the configured
 * host in the unsafe non-loopback mode), and no browser Origin outside the allowlist.
 */
export function checkHostAndOrigin(
  req: IncomingMessage,
  options: { readonly extraHosts: readonly string[]; readonly allowedOrigins: readonly string[] },
): CheckFailure | undefined {
  const host = req.headers.host;
  const name = host === undefined ? undefined : hostnameOf(host);
  if (name === undefined || !(LOOPBACK_HOSTS.includes(name) || options.extraHosts.includes(name))) {
    return { status: 403, error: 'forbidden_host', message: 'Host header must name a loopback address' };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
    return { status: 403, error: 'forbidden_origin', message: 'Origin not allowed' };
  }
  return undefined;
}

/** Reads a JSON body up to `max` bytes. `undefined` for an empty body. */
export async function readJsonBody(req: IncomingMessage, max: number): Promise<{ ok: true; body: unknown } | { ok: false; failure: CheckFailure }> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > max) return { ok: false, failure: { status: 413, error: 'body_too_large', message: `body over ${max} bytes` } };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return { ok: false, failure: { status: 413, error: 'body_too_large', message: `body over ${max} bytes` } };
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return { ok: true, body: undefined };
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return { ok: false, failure: { status: 415, error: 'unsupported_media_type', message: 'send application/json' } };
  }
  try {
    return { ok: true, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, failure: { status: 400, error: 'invalid_json', message: 'body is not valid JSON' } };
  }
}
