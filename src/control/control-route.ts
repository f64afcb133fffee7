import type { IncomingMessage } from 'node:http';

/** Result of a control-API route: JSON body and status. */
export interface ControlResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * One route on warden's local control API (loopback or Unix socket, admin credential required;
 * the server checks auth, Host and Origin before any route runs). Areas contribute routes
 * (approvals, grants, sessions, revocation, pins) without owning the server.
 */
export interface ControlRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Exact path or a pattern with `:param` segments, e.g. `/approvals/:id/allow`. */
  readonly path: string;
  handle(input: {
    readonly params: Readonly<Record<string, string>>;
    readonly query: URLSearchParams;
    /** Parsed JSON body (POST), `undefined` when empty. */
    readonly body: unknown;
    /** Identity of the admin caller (from the admin credential or approver token). */
    readonly caller: { readonly kind: 'admin' | 'approver'; readonly id: string };
    readonly request: IncomingMessage;
  }): Promise<ControlResponse>;
}
