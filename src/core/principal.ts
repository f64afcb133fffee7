/**
 * Who is acting: the delegating user and the agent acting for them (RFC 8693 `act`).
 * Produced by identity verification, consumed by signals, risk, policy, approval and audit.
 */
export interface Principal {
  /** Token issuer (`iss`). Empty string in anonymous mode. */
  readonly issuer: string;
  /** The delegating user (`sub`). */
  readonly user: string;
  /** The agent acting now (`act.sub`), if the token is a delegation token. */
  readonly actor: string | undefined;
  /**
   * The current actor's issuer (`act.iss`), when the token names one. An actor is the pair
   * (actorIssuer, actor): two actors with one `sub` from different issuers (or one naming an
   * issuer, one not) are different agents, and nothing keyed or compared by actor may merge them.
   */
  readonly actorIssuer?: string | undefined;
  /** Prior actors from nested `act`, outermost (most recent prior) first. Informational. */
  readonly priorActors: readonly string[];
  /** The issuers (`iss`) of priorActors, same order; null where that `act` names none. */
  readonly priorActorIssuers?: readonly (string | null)[];
  /** `client_id` or `azp`. */
  readonly clientId: string | undefined;
  readonly scopes: readonly string[];
  /** Identity-provider session id (`sid`). */
  readonly sessionId: string | undefined;
  /** `auth_time` in epoch seconds. */
  readonly authTime: number | undefined;
  readonly acr: string | undefined;
  readonly amr: readonly string[];
  /** `iat` in epoch seconds. */
  readonly issuedAt: number | undefined;
  /** `exp` in epoch seconds. */
  readonly expiresAt: number | undefined;
  /** `jti`, when present. */
  readonly tokenId: string | undefined;
  /** Extra claims configured for policy matching (groups, roles, tenant, ...). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** True only in the explicitly unsafe anonymous mode; logs and audit mark it. */
  readonly anonymous: boolean;
}

/**
 * Stable key for the (user, current actor) pair that decisions are made about. The parts are
 * escaped so no two principals share a key: unescaped, user `a|x` acting through `y` and user `a`
 * acting through `x|y` were one key (one session owner, one set of rate windows).
 * The actor's issuer is a fourth part, present only when the token names one (so an actor without
 * `iss` keeps the key it always had, and `iss` absent and `iss: ""` stay apart): without it, an
 * actor of another issuer's namespace with the same `sub` took over the session, the rate windows
 * and the baselines of this one.
 */
export function principalKey(p: Pick<Principal, 'issuer' | 'user' | 'actor' | 'actorIssuer'>): string {
  const base = `${keyPart(p.issuer)}|${keyPart(p.user)}|${keyPart(p.actor ?? '')}`;
  return p.actorIssuer === undefined ? base : `${base}|${keyPart(p.actorIssuer)}`;
}

/**
 * Stable key for the user alone (every agent of it), its parts escaped as in principalKey:
 * unescaped, user `x|y` of issuer `https://idp` and user `y` of an issuer `https://idp|x` were one
 * key (one user-level rate window, burst baseline and set of familiar payees).
 */
export function userKey(p: Pick<Principal, 'issuer' | 'user'>): string {
  return `${keyPart(p.issuer)}|${keyPart(p.user)}`;
}

/** Who one actor of a delegation chain is: its `sub` and, when the token names one, its `iss`. */
export interface ActorId {
  readonly sub: string;
  readonly iss: string | null;
}

/** The delegation chain as actor identities, current actor first (empty without an actor). */
export function actorIds(p: Pick<Principal, 'actor' | 'actorIssuer' | 'priorActors' | 'priorActorIssuers'>): ActorId[] {
  const prior = p.priorActors.map((sub, i) => ({ sub, iss: p.priorActorIssuers?.[i] ?? null }));
  return p.actor === undefined ? prior : [{ sub: p.actor, iss: p.actorIssuer ?? null }, ...prior];
}

/** True when two chains name the same actors in the same order, issuers included. */
export function sameActorChain(a: readonly ActorId[], b: readonly ActorId[]): boolean {
  return a.length === b.length && a.every((x, i) => x.sub === b[i]!.sub && x.iss === b[i]!.iss);
}

function keyPart(s: string): string {
  return s.includes('|') || s.includes('\\') ? s.replace(/[\\|]/g, '\\$&') : s;
}
