import type { HttpListen } from '../config/config-schema.js';

/** What eviction needs to know about an open session. */
export interface EvictionCandidate {
  readonly owner: string;
  readonly active: number;
  readonly streams: number;
  readonly lastSeen: number;
}

/**
 * The session to close so `owner` can open a new one: the owner's own least recently seen session
 * that nobody is attached to (no request in flight, no GET stream). Undefined when every session
 * of the owner is attended: a live agent is never evicted, and neither is another principal's.
 */
export function pickEvictable<T extends EvictionCandidate>(open: Iterable<T>, owner: string): T | undefined {
  let pick: T | undefined;
  for (const e of open) {
    if (e.owner !== owner || e.active > 0 || e.streams > 0) continue;
    if (!pick || e.lastSeen < pick.lastSeen) pick = e;
  }
  return pick;
}

/** Why a new HTTP session is refused: every session starts its own upstream processes. */
export interface SessionCapRefusal {
  /** 503: warden is full for everyone; 429: this principal holds its share. */
  readonly status: 429 | 503;
  readonly reason: 'too_many_sessions' | 'too_many_sessions_for_principal';
  readonly open: number;
  readonly limit: number;
  readonly message: string;
}

/**
 * Decides whether one more HTTP session may open for `owner` (issuer|user|actor). Without these
 * caps an agent could call `initialize` in a loop and have warden start upstream children without
 * end (each session gets its own), exhausting the host for every other agent. The principal's own
 * cap is checked first, so one busy principal cannot use up the global one.
 */
export function checkSessionCaps(owners: Iterable<string>, owner: string, listen: Pick<HttpListen, 'maxSessions' | 'maxSessionsPerPrincipal'>): SessionCapRefusal | undefined {
  let open = 0;
  let mine = 0;
  for (const o of owners) {
    open += 1;
    if (o === owner) mine += 1;
  }
  if (mine >= listen.maxSessionsPerPrincipal) {
    return {
      status: 429,
      reason: 'too_many_sessions_for_principal',
      open: mine,
      limit: listen.maxSessionsPerPrincipal,
      message: `too many open sessions for this principal (${mine}, limit ${listen.maxSessionsPerPrincipal}), all in use; end one (HTTP DELETE) or wait for one to go idle`,
    };
  }
  if (open >= listen.maxSessions) {
    return {
      status: 503,
      reason: 'too_many_sessions',
      open,
      limit: listen.maxSessions,
      message: `warden has too many open sessions (${open}, limit ${listen.maxSessions}); try again later`,
    };
  }
  return undefined;
}
