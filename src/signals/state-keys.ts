import { sha256Hex } from '../core/canonical-json.js';
import { principalKey, userKey, type Principal } from '../core/principal.js';

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
  user: (p: Principal) => userKey(p),
  pairGroup: (pk: string) => `sig:pair:${pk}`,
  userGroup: (uk: string) => `sig:user:${uk}`,
  burst: (pk: string) => `sig:burst:${pk}`,
  userBurst: (uk: string) => `sig:burst:user:${uk}`,
  resourceSeen: (pk: string, upstream: string, tool: string, value: string) =>
    `sig:vol:seen:${pk}:${upstream}/${tool}:${fragment(value)}`,
  toolSeen: (pk: string, upstream: string, tool: string) => `sig:nov:tool:${pk}:${upstream}/${tool}`,
  /**
   * A sensitive value is familiar at the upstream it was used at: keyed by user alone, a payee
   * paid through a same-named tool of another upstream (a sandbox the policy lets the agent use
   * freely) counted as known at the real one.
   */
  valueSeen: (uk: string, upstream: string, name: string, value: string) => `sig:nov:arg:${uk}:${upstream}/${name}:${fragment(value)}`,
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
  /** Per upstream, per tool: that tool's keys (toolKeys), bounded. */
  readonly tools: Map<string, Map<string, ToolKeys>>;
}

/** The keys of one principal's calls to one tool. */
export interface ToolKeys {
  /** The tool class `rateMembers` was built for. */
  readonly cls: string;
  /** Members of the pair group a call counts in: its tool, its class, all calls. */
  readonly rateMembers: readonly string[];
  readonly toolSeen: string;
}

/** Tools whose keys are kept per principal; beyond that they are built per call. */
const MAX_TOOLS_PER_PRINCIPAL = 256;

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
    tools: new Map(),
  };
  if (Object.isFrozen(p)) byPrincipal.set(p, built);
  return built;
}

/**
 * The keys of `k`'s calls to `upstream`/`tool` in class `cls`, built once per principal and tool
 * (strings the store has hashed before) instead of concatenated on every call.
 */
export function toolKeys(k: PrincipalKeys, upstream: string, tool: string, cls: string): ToolKeys {
  let byTool = k.tools.get(upstream);
  const cached = byTool?.get(tool);
  if (cached !== undefined && cached.cls === cls) return cached;
  const built: ToolKeys = {
    cls,
    rateMembers: [members.rateTool(upstream, tool), members.rateClass(cls), members.rateAll],
    toolSeen: keys.toolSeen(k.pk, upstream, tool),
  };
  if (byTool === undefined) {
    if (k.tools.size >= MAX_TOOLS_PER_PRINCIPAL) return built;
    k.tools.set(upstream, (byTool = new Map()));
  }
  if (cached !== undefined || byTool.size < MAX_TOOLS_PER_PRINCIPAL) byTool.set(tool, built);
  return built;
}

const sessionKeys = new Map<string, string>();
const MAX_SESSION_KEYS = 4096;

/** `keys.session(id)`, kept for the ids seen lately: every call of a session reads it. */
export function sessionKey(sessionId: string): string {
  let key = sessionKeys.get(sessionId);
  if (key === undefined) {
    key = keys.session(sessionId);
    if (sessionKeys.size >= MAX_SESSION_KEYS) sessionKeys.clear();
    sessionKeys.set(sessionId, key);
  }
  return key;
}
