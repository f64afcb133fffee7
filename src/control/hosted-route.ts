import type { IncomingMessage } from 'node:http';
import type { ControlRoute } from './control-route.js';
import type { ControlCaller } from './caller-auth.js';

/** A JSON route; `approverAllowed` lets named approvers (not only the admin) call it. */
export type JsonControlRoute = ControlRoute & { readonly approverAllowed?: boolean };

/** Server-sent events sink handed to a stream route. */
export interface SseSink {
  send(event: string, data: unknown): void;
  /** Aborted when the client disconnects or the server closes. */
  readonly signal: AbortSignal;
}

/** A `text/event-stream` route (e.g. `GET /approvals/stream`). Extends the shared contract. */
export interface StreamControlRoute {
  readonly kind: 'stream';
  readonly method: 'GET';
  readonly path: string;
  readonly approverAllowed?: boolean;
  open(
    input: { readonly params: Readonly<Record<string, string>>; readonly query: URLSearchParams; readonly caller: ControlCaller; readonly request: IncomingMessage },
    sink: SseSink,
  ): void;
}

export type HostedRoute = JsonControlRoute | StreamControlRoute;

export function isStreamRoute(r: HostedRoute): r is StreamControlRoute {
  return (r as StreamControlRoute).kind === 'stream';
}

/** Matches `path` against a route pattern with `:param` segments. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(':')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

/** Finds the route for a request: exact paths win over patterns. */
export function findRoute(
  routes: readonly HostedRoute[],
  method: string,
  path: string,
): { route: HostedRoute; params: Record<string, string> } | 'method_not_allowed' | undefined {
  const ordered = [...routes].sort((a, b) => Number(a.path.includes(':')) - Number(b.path.includes(':')));
  let pathMatched = false;
  for (const route of ordered) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    if (route.method === method) return { route, params };
    pathMatched = true;
  }
  return pathMatched ? 'method_not_allowed' : undefined;
}
