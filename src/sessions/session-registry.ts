import type { Action } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import type { SessionInfo } from '../core/tool-call.js';

/** What operators see for one active session (`GET /sessions`, `warden sessions`). */
export interface SessionView {
  readonly sessionId: string;
  readonly issuer: string;
  readonly user: string;
  readonly actor: string | undefined;
  /** The actor's issuer (`act.iss`) when the token names one: two agents may share a name. */
  readonly actorIssuer: string | undefined;
  readonly clientId: string | undefined;
  readonly anonymous: boolean;
  readonly transport: 'stdio' | 'http';
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly openedAt: number;
  readonly ageMs: number;
  readonly lastCallAt: number | undefined;
  readonly calls: { readonly total: number } & Readonly<Record<Action, number>>;
  readonly risk: { readonly last: number | undefined; readonly max: number | undefined };
}

interface SessionState {
  readonly info: SessionInfo;
  readonly calls: Record<Action, number> & { total: number };
  last: number | undefined;
  max: number | undefined;
  lastCallAt: number | undefined;
}

const DEFAULT_TRACKED = 10_000;

/**
 * How many sessions the registry must be able to hold: every session the listeners may have open
 * at once (HTTP `maxSessions`, plus the stdio one). Revocations pick the sessions to close, the
 * approvals to withdraw and the subscriptions to end from this registry: with a bound below what
 * the listener admits, the oldest open sessions were forgotten, and a revoked user's session
 * among them stayed open, its pending approvals and standing subscriptions untouched.
 */
export function sessionsTracked(listen: { readonly stdio: boolean; readonly http?: { readonly maxSessions: number } | undefined }): number {
  const open = (listen.http?.maxSessions ?? 0) + (listen.stdio ? 1 : 0);
  return Math.max(DEFAULT_TRACKED, open);
}

/**
 * Active downstream sessions, fed by the guard (onSessionOpened / onSessionClosed / recordCall).
 * Local to this warden process: sessions live on the connection that carries them. Bounded so a
 * flood of sessions cannot grow memory without limit (oldest sessions are forgotten first); the
 * bound is at least what the listeners admit (sessionsTracked), so no open session is forgotten.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, SessionState>();

  constructor(private readonly options: { readonly maxSessions?: number } = {}) {}

  opened(info: SessionInfo): void {
    const max = this.options.maxSessions ?? DEFAULT_TRACKED;
    if (!this.sessions.has(info.sessionId) && this.sessions.size >= max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.set(info.sessionId, {
      info,
      calls: { total: 0, allow: 0, throttle: 0, approve: 0, block: 0 },
      last: undefined,
      max: undefined,
      lastCallAt: undefined,
    });
  }

  /** Accepts the SessionInfo from Guard.onSessionClosed or a bare session id. */
  closed(session: SessionInfo | string): void {
    this.sessions.delete(typeof session === 'string' ? session : session.sessionId);
  }

  /** Counts one decided call: its risk score (0..100) and the enforced action. */
  recordCall(sessionId: string, score: number, action: Action, at?: number): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.calls.total += 1;
    s.calls[action] += 1;
    s.last = score;
    s.max = s.max === undefined ? score : Math.max(s.max, score);
    if (at !== undefined) s.lastCallAt = at;
  }

  /**
   * The principal a session's latest call ran as. A stdio session's token file can be rewritten
   * (another user, a newer token) and an HTTP agent can refresh its token: revocations pick the
   * sessions to close and the pending approvals to withdraw by this principal, so it must be current.
   */
  updatePrincipal(sessionId: string, principal: Principal): void {
    const s = this.sessions.get(sessionId);
    if (!s || s.info.principal === principal) return;
    this.sessions.set(sessionId, { ...s, info: { ...s.info, principal } });
  }

  get(sessionId: string): SessionInfo | undefined {
    return this.sessions.get(sessionId)?.info;
  }

  /** SessionInfo of every open session (for revocation hooks). */
  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => s.info);
  }

  /** Operator view, oldest session first. */
  views(now: number): SessionView[] {
    return [...this.sessions.values()]
      .map((s): SessionView => {
        const p = s.info.principal;
        return {
          sessionId: s.info.sessionId,
          issuer: p.issuer,
          user: p.user,
          actor: p.actor,
          actorIssuer: p.actorIssuer,
          clientId: p.clientId,
          anonymous: p.anonymous,
          transport: s.info.transport,
          remoteAddress: s.info.remoteAddress,
          userAgent: s.info.userAgent,
          openedAt: s.info.openedAt,
          ageMs: Math.max(0, now - s.info.openedAt),
          lastCallAt: s.lastCallAt,
          calls: { ...s.calls },
          risk: { last: s.last, max: s.max },
        };
      })
      .sort((a, b) => a.openedAt - b.openedAt);
  }

  get size(): number {
    return this.sessions.size;
  }
}
