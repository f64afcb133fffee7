import type { HttpListen } from '../config/config-schema.js';

/** Who holds an open session: its principal (what caps count by) and its binding (which client of the principal). */
export interface SessionHolder {
  /** issuer|user|actor (principalKey). */
  readonly owner: string;
  /** Principal, delegation chain and OAuth client (sessionBindingKey): one app of the principal. */
  readonly binding: string;
}

/** What eviction needs to know about an open session. */
export interface EvictionCandidate extends SessionHolder {
  readonly active: number;
  readonly streams: number;
  readonly lastSeen: number;
}

/**
 * The session to close so `binding` can open a new one: that client's own least recently seen
 * session that nobody is attached to (no request in flight, no GET stream). Undefined when every
 * session of the client is attended: a live agent is never evicted, and neither is a session of
 * another principal, nor of another client of the same principal. "Unattended" only means no
 * connection is open right now: an agent between two calls that does not hold a GET stream looks
 * just like one that went away, so another app of the same user must not be able to close it by
 * opening sessions of its own.
 */
export function pickEvictable<T extends EvictionCandidate>(open: Iterable<T>, binding: string): T | undefined {
  let pick: T | undefined;
  for (const e of open) {
    if (e.binding !== binding || e.active > 0 || e.streams > 0) continue;
    if (!pick || e.lastSeen < pick.lastSeen) pick = e;
  }
  return pick;
}

/** Why a new HTTP session is refused: every session starts its own upstream processes. */
export interface SessionCapRefusal {
  /** 503: warden is full for everyone; 429: this client or this principal holds its share. */
  readonly status: 429 | 503;
  readonly reason: 'too_many_sessions' | 'too_many_sessions_for_principal' | 'too_many_sessions_for_client';
  readonly open: number;
  readonly limit: number;
  readonly message: string;
}

export type SessionCaps = Pick<HttpListen, 'maxSessions' | 'maxSessionsPerPrincipal' | 'maxSessionsPerClient'>;

/**
 * How many sessions one client of a principal (one binding) may hold: `maxSessionsPerClient`, by
 * default half the principal's cap rounded up, so that one app of a user (or one delegation chain
 * of an agent) holding all it may still leaves room for another.
 */
export function clientSessionCap(listen: Pick<HttpListen, 'maxSessionsPerPrincipal' | 'maxSessionsPerClient'>): number {
  return listen.maxSessionsPerClient ?? Math.ceil(listen.maxSessionsPerPrincipal / 2);
}

/**
 * Decides whether one more HTTP session may open for `who`. Without these caps an agent could call
 * `initialize` in a loop and have warden start upstream children without end (each session gets
 * its own), exhausting the host for every other agent. Three shares: the principal's (issuer +
 * user + actor: a user cannot get more by presenting tokens of more clients or chains, as far as
 * the IdP issues them), the client's within it (principal + chain + OAuth client), so one app
 * cannot use up its user's share, and warden's, so a busy principal cannot use up everyone's.
 * Where the principal's and the client's are both reached, the principal's is reported.
 */
export function checkSessionCaps(open: Iterable<SessionHolder>, who: SessionHolder, listen: SessionCaps): SessionCapRefusal | undefined {
  let all = 0;
  let principal = 0;
  let client = 0;
  for (const s of open) {
    all += 1;
    if (s.owner !== who.owner) continue;
    principal += 1;
    if (s.binding === who.binding) client += 1;
  }
  if (principal >= listen.maxSessionsPerPrincipal) {
    return {
      status: 429,
      reason: 'too_many_sessions_for_principal',
      open: principal,
      limit: listen.maxSessionsPerPrincipal,
      message: `too many open sessions for this principal (${principal}, limit ${listen.maxSessionsPerPrincipal}: listen.http.maxSessionsPerPrincipal), held by sessions in use or by its other clients; end one (HTTP DELETE) or wait for one to go idle`,
    };
  }
  const perClient = clientSessionCap(listen);
  if (client >= perClient) {
    return {
      status: 429,
      reason: 'too_many_sessions_for_client',
      open: client,
      limit: perClient,
      message: `too many open sessions for this client of the principal (${client}, limit ${perClient}: listen.http.maxSessionsPerClient), all in use; end one (HTTP DELETE) or wait for one to go idle`,
    };
  }
  if (all >= listen.maxSessions) {
    return {
      status: 503,
      reason: 'too_many_sessions',
      open: all,
      limit: listen.maxSessions,
      message: `warden has too many open sessions (${all}, limit ${listen.maxSessions}: listen.http.maxSessions); try again later`,
    };
  }
  return undefined;
}
