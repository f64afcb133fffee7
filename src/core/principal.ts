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
  /** Prior actors from nested `act`, outermost (most recent prior) first. Informational. */
  readonly priorActors: readonly string[];
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
 */
export function principalKey(p: Pick<Principal, 'issuer' | 'user' | 'actor'>): string {
  return `${keyPart(p.issuer)}|${keyPart(p.user)}|${keyPart(p.actor ?? '')}`;
}

function keyPart(s: string): string {
  return s.includes('|') || s.includes('\\') ? s.replace(/[\\|]/g, '\\$&') : s;
}
