import { actorIds, sameActorChain } from '../core/principal.js';
import type { StateStore } from '../state/state-store.js';
import type { Grant } from './approval-types.js';
import { partiesOf } from './answer-checks.js';

const PREFIX = 'grant:';

/** The caller a grant is checked against. */
export interface GrantSubject {
  readonly issuer: string;
  readonly user: string;
  readonly actor: string | undefined;
  readonly actorIssuer?: string | undefined;
  readonly priorActors: readonly string[];
  readonly priorActorIssuers?: readonly (string | null)[];
  readonly clientId?: string | undefined;
}

/**
 * Same issuer and user; for a `principal` grant (and one stored without a scope) also the same
 * actor chain, each actor compared as (iss, sub): an agent of another issuer's namespace that
 * happens to share the `sub` of the approved agent does not inherit its grant; and the same
 * OAuth client: agent apps holding the user's own token (no `act`) differ in nothing else.
 */
export function coversPrincipal(g: Grant, who: GrantSubject): boolean {
  if (g.issuer !== who.issuer || g.user !== who.user) return false;
  if (g.scope === 'user') return true;
  // Fail closed on anything else: an unknown or missing scope is the narrow one.
  return g.clientId === who.clientId && sameActorChain(actorIds({ ...g, priorActors: g.priorActors ?? [] }), actorIds(who));
}

/**
 * A named approver may not answer a call it is a party to (checkAnswer), so neither may a grant it
 * made: an agent holding an approver credential could otherwise answer another agent's call of the
 * same user with "remember, any agent" and then run its own calls on that grant, with no human.
 */
function madeByAParty(g: Grant, who: GrantSubject): boolean {
  return g.createdBy.kind === 'approver' && partiesOf(who).includes(g.createdBy.id);
}

/** Remembered grants, stored through the StateStore so replicas can share them later. */
export class GrantStore {
  constructor(
    private readonly store: StateStore,
    private readonly maxGrants: number,
  ) {}

  /** Stores a grant; returns false when the bound on live grants is reached. */
  async add(grant: Grant, now: number): Promise<boolean> {
    if ((await this.list(now)).length >= this.maxGrants) return false;
    // The store TTL is cleanup only; expiry is always checked against the injected clock.
    await this.store.set(PREFIX + grant.id, grant, Math.max(1, grant.expiresAt - now));
    return true;
  }

  async get(id: string, now: number): Promise<Grant | undefined> {
    const g = await this.store.get<Grant>(PREFIX + id);
    return g && g.expiresAt > now ? g : undefined;
  }

  /** Live grants, oldest first. Expired ones are deleted on the way. */
  async list(now: number): Promise<Grant[]> {
    const out: Grant[] = [];
    for (const key of await this.store.keys(PREFIX)) {
      const g = await this.store.get<Grant>(key);
      if (!g) continue;
      if (g.expiresAt <= now) await this.store.delete(key);
      else out.push(g);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * The first live grant covering this principal, tool and (when the grant is bound) argument
   * digest, made under this policy version. A grant approved for one agent never covers another
   * agent of the same user (a rogue agent holding a token for that user must not ride on it)
   * unless it was widened to the user. A grant from another policy version never matches, even in
   * the moment between a reload and its revocation. A grant never answers a call its maker (a
   * named approver) is a party to.
   */
  async find(who: GrantSubject, upstream: string, tool: string, argsDigest: string, policyHash: string, now: number): Promise<Grant | undefined> {
    return (await this.list(now)).find(
      (g) =>
        g.policyHash === policyHash &&
        coversPrincipal(g, who) &&
        !madeByAParty(g, who) &&
        g.upstream === upstream &&
        g.tool === tool &&
        (g.argsDigest === undefined || g.argsDigest === argsDigest),
    );
  }

  async remove(id: string): Promise<Grant | undefined> {
    const g = await this.store.get<Grant>(PREFIX + id);
    if (!g) return undefined;
    await this.store.delete(PREFIX + id);
    return g;
  }
}
