import type { MaybePromise } from './maybe-promise.js';
import type { Principal } from './principal.js';

/** Outcome of authenticating a downstream request. Rejections are values, not exceptions. */
export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | {
      readonly ok: false;
      /** 401 for a missing/bad token, 403 for insufficient scope. */
      readonly status: 401 | 403;
      /** Stable reason code, e.g. `token_expired`, `alg_not_allowed`, `insufficient_scope`. */
      readonly reason: string;
      /** Human-readable description (no secrets). */
      readonly description: string;
      /** Value for the `WWW-Authenticate` response header on HTTP. */
      readonly wwwAuthenticate?: string;
    };

/**
 * How the proxy learns who is calling. HTTP requests carry a bearer token each;
 * stdio has one token for the process, re-checked on every call.
 */
export interface Authenticator {
  /** Authenticate one HTTP request from its `Authorization` header value. */
  authenticateHttp(authorization: string | undefined): Promise<AuthResult>;
  /**
   * The principal for the stdio session now (token may have been refreshed or expired). Called
   * on every call: answered at once when the verified token is cached, a promise otherwise.
   * Callers treat a throw like a rejection.
   */
  authenticateStdio(): MaybePromise<AuthResult>;
  /** RFC 9728 protected-resource metadata document, served on HTTP. Undefined when anonymous. */
  protectedResourceMetadata?(): Record<string, unknown>;
  close?(): Promise<void>;
}
