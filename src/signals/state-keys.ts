import { sha256Hex } from '../core/canonical-json.js';
import { principalKey, type Principal } from '../core/principal.js';

/**
 * A bounded key fragment for an untrusted value: short values as they are (cheap), longer ones
 * as a hash, so a huge argument can never become a huge key. The prefixes keep the two apart.
 */
function fragment(value: string): string {
  return value.length <= 64 ? `r:${value}` : `h:${sha256Hex(value).slice(0, 32)}`;
}

/**
 * Store keys of the signals area. Argument values enter keys only through fragment().
 *
 * The window counters of one principal are one group (StateStore.addToWindows): `pairGroup`
 * holds the user+agent's rate counters (per tool, per class, overall) and volume counters
 * (result bytes, items, distinct resources); `userGroup` the user's overall rate, bytes and
 * items. Member names (see `members`) are prefixed by kind, so they stay apart even when the
 * rate and volume windows have the same length.
 */
export const keys = {
  pair: (p: Principal) => principalKey(p),
  user: (p: Principal) => `${p.issuer}|${p.user}`,
  pairGroup: (pk: string) => `sig:pair:${pk}`,
  userGroup: (uk: string) => `sig:user:${uk}`,
  burst: (pk: string) => `sig:burst:${pk}`,
  userBurst: (uk: string) => `sig:burst:user:${uk}`,
  resourceSeen: (pk: string, upstream: string, tool: string, value: string) =>
    `sig:vol:seen:${pk}:${upstream}/${tool}:${fragment(value)}`,
  toolSeen: (pk: string, upstream: string, tool: string) => `sig:nov:tool:${pk}:${upstream}/${tool}`,
  valueSeen: (uk: string, name: string, value: string) => `sig:nov:arg:${uk}:${name}:${fragment(value)}`,
  session: (sessionId: string) => `sig:sess:${sessionId}`,
};

/** Member names inside the groups above. */
export const members = {
  rateTool: (upstream: string, tool: string) => `rate:tool:${upstream}/${tool}`,
  rateClass: (cls: string) => `rate:class:${cls}`,
  rateAll: 'rate:all',
  /** The user's overall rate (userGroup). */
  userRate: ['rate:all'] as readonly string[],
  /** Volume members, in the order collectSignals reads them (pairGroup). */
  vol: ['vol:bytes', 'vol:items', 'vol:res'] as readonly string[],
  /** What an outcome adds to (pairGroup and userGroup); the user's volume reads. */
  results: ['vol:bytes', 'vol:items'] as readonly string[],
};

/** The keys of one principal, built once per (frozen) principal instead of on every call. */
export interface PrincipalKeys {
  readonly pk: string;
  readonly uk: string;
  readonly pairGroup: string;
  readonly userGroup: string;
  readonly burst: string;
  readonly userBurst: string;
}

const byPrincipal = new WeakMap<Principal, PrincipalKeys>();

/**
 * Keys for `p`. A frozen principal (what identity produces) cannot change, so its keys are
 * cached with it; any other principal gets fresh keys each time.
 */
export function principalKeys(p: Principal): PrincipalKeys {
  const cached = byPrincipal.get(p);
  if (cached !== undefined) return cached;
  const pk = keys.pair(p);
  const uk = keys.user(p);
  const built: PrincipalKeys = {
    pk, uk,
    pairGroup: keys.pairGroup(pk), userGroup: keys.userGroup(uk),
    burst: keys.burst(pk), userBurst: keys.userBurst(uk),
  };
  if (Object.isFrozen(p)) byPrincipal.set(p, built);
  return built;
}
