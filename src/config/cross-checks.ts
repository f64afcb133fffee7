import type { z } from 'zod';

/** Hosts that only this machine can reach (an HTTP listener bound there is not on the network). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The parts of the parsed config the cross-section checks read. */
interface Checked {
  readonly dangerouslyAllowAnonymous: boolean;
  readonly identity?: { readonly token?: unknown } | undefined;
  readonly listen: {
    readonly stdio: boolean;
    readonly http?:
      | { readonly host: string; readonly dangerouslyAllowNonLoopback: boolean; readonly maxBodyBytes: number; readonly maxRequestBytesInFlightPerPrincipal: number; readonly maxRequestBytesInFlight: number }
      | undefined;
  };
}

/**
 * Rules that relate keys to one another (most span sections), so a single key's schema cannot
 * hold them. Each is a start-up error naming the keys to change, never a per-request failure.
 */
export function crossCheckConfig(config: Checked, ctx: z.RefinementCtx): void {
  const http = config.listen.http;
  if (config.dangerouslyAllowAnonymous && http && !isLoopbackHost(http.host) && !http.dangerouslyAllowNonLoopback) {
    // Anonymous mode accepts every caller: on a network address that is anyone who can reach the port.
    ctx.addIssue({
      code: 'custom',
      path: ['listen', 'http', 'host'],
      message: `${http.host} is not a loopback address and dangerouslyAllowAnonymous is true: anyone who reaches the port could call every tool. Listen on 127.0.0.1, configure an identity section, or set listen.http.dangerouslyAllowNonLoopback: true to accept this`,
    });
  }
  for (const key of ['maxRequestBytesInFlightPerPrincipal', 'maxRequestBytesInFlight'] as const) {
    if (!http || http[key] >= http.maxBodyBytes) continue;
    // A body between the two would be accepted by the size check, then refused by the budget even
    // with nothing else in flight: every agent sending one would be refused forever.
    ctx.addIssue({
      code: 'custom',
      path: ['listen', 'http', key],
      message: `${http[key]} is below listen.http.maxBodyBytes (${http.maxBodyBytes}): a single body of legal size could never be admitted. Raise listen.http.${key} to at least listen.http.maxBodyBytes, or lower maxBodyBytes`,
    });
  }
  if (config.identity && config.listen.stdio && config.identity.token === undefined) {
    // A stdio agent has no header to carry a token: without identity.token every session would fail.
    ctx.addIssue({
      code: 'custom',
      path: ['identity', 'token'],
      message: 'listen.stdio is on (the default) but identity.token is not set, so a stdio agent cannot present a token and every call would fail: set identity.token: { env: VAR } or { file: path }, or set listen.stdio: false for an HTTP-only warden',
    });
  }
}
