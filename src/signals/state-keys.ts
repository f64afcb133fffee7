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
 * Counters of one principal that are counted together share a group (StateStore.addToWindows):
 * `rateGroup` holds the user+agent's per-tool, per-class and overall rate counters, `volGroup`
 * its result bytes, items and distinct resources, `userVolGroup` the user's bytes and items.
 */
export const keys = {
  pair: (p: Principal) => principalKey(p),
  user: (p: Principal) => `${p.issuer}|${p.user}`,
  rateGroup: (pk: string) => `sig:rate:pair:${pk}`,
  rateUser: (uk: string) => `sig:rate:user:${uk}`,
  burst: (pk: string) => `sig:burst:${pk}`,
  userBurst: (uk: string) => `sig:burst:user:${uk}`,
  volGroup: (pk: string) => `sig:vol:pair:${pk}`,
  userVolGroup: (uk: string) => `sig:vol:user:${uk}`,
  resourceSeen: (pk: string, upstream: string, tool: string, value: string) =>
    `sig:vol:seen:${pk}:${upstream}/${tool}:${fragment(value)}`,
  toolSeen: (pk: string, upstream: string, tool: string) => `sig:nov:tool:${pk}:${upstream}/${tool}`,
  valueSeen: (uk: string, name: string, value: string) => `sig:nov:arg:${uk}:${name}:${fragment(value)}`,
  session: (sessionId: string) => `sig:sess:${sessionId}`,
};

/** Member names inside the groups above. */
export const members = {
  rateTool: (upstream: string, tool: string) => `tool:${upstream}/${tool}`,
  rateClass: (cls: string) => `class:${cls}`,
  rateAll: 'all',
  /** volGroup members, in the order collectSignals reads them. */
  vol: ['bytes', 'items', 'res'] as readonly string[],
  /** userVolGroup members; also the volGroup members an outcome adds to. */
  results: ['bytes', 'items'] as readonly string[],
};

/** The keys of one principal, built once per (frozen) principal instead of on every call. */
export interface PrincipalKeys {
  readonly pk: string;
  readonly uk: string;
  readonly rateGroup: string;
  readonly rateUser: string;
  readonly burst: string;
  readonly userBurst: string;
  readonly volGroup: string;
  readonly userVolGroup: string;
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
    rateGroup: keys.rateGroup(pk), rateUser: keys.rateUser(uk),
    burst: keys.burst(pk), userBurst: keys.userBurst(uk),
    volGroup: keys.volGroup(pk), userVolGroup: keys.userVolGroup(uk),
  };
  if (Object.isFrozen(p)) byPrincipal.set(p, built);
  return built;
}
