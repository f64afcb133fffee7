import type { Principal } from '../core/principal.js';
import { fail, type VerifyOutcome } from './reason-codes.js';

/** Longest `act` chain accepted; real delegation chains are a few hops. */
export const MAX_ACTOR_DEPTH = 8;

type Claims = Readonly<Record<string, unknown>>;
type Failure = VerifyOutcome & { ok: false };

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `scope` (space-separated string, RFC 8693/9068) and/or `scp` (array or string), de-duplicated. */
export function scopesOf(claims: Claims): string[] {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const s of v.split(' ')) if (s !== '') out.add(s);
    } else if (Array.isArray(v)) {
      for (const s of v) if (typeof s === 'string' && s !== '') out.add(s);
    }
  };
  add(claims['scope']);
  add(claims['scp']);
  return [...out];
}

/** Reads the `act` chain: current actor first, then prior actors (most recent first). */
function actorChain(claims: Claims): { ok: true; chain: { sub: string; iss?: string | undefined }[] } | Failure {
  const chain: { sub: string; iss?: string | undefined }[] = [];
  let act: unknown = claims['act'];
  while (act !== undefined) {
    if (!isObject(act) || typeof act['sub'] !== 'string' || act['sub'] === '') return fail('actor_invalid');
    // The issuer is half of the actor's identity: one that is not a non-empty string is refused,
    // never read as "no issuer" (which would make it the same actor as one without `iss`).
    if (act['iss'] !== undefined && (typeof act['iss'] !== 'string' || act['iss'] === '')) return fail('actor_invalid');
    if (chain.length >= MAX_ACTOR_DEPTH) return fail('actor_chain_too_deep');
    chain.push({ sub: act['sub'], iss: optionalString(act['iss']) });
    act = act['act'];
  }
  return { ok: true, chain };
}

/**
 * `may_act` (RFC 8693 §4.4) on a user's token names who may act for them. When present and an
 * actor is acting, every claim it lists (`sub`, and `iss` if given) must match the actor.
 */
function checkMayAct(claims: Claims, actor: { sub: string; iss?: string | undefined } | undefined): Failure | undefined {
  const mayAct = claims['may_act'];
  if (mayAct === undefined) return undefined;
  if (!isObject(mayAct) || typeof mayAct['sub'] !== 'string') return fail('may_act_invalid');
  if (actor === undefined) return undefined;
  if (actor.sub !== mayAct['sub']) return fail('actor_not_allowed');
  if (mayAct['iss'] !== undefined && actor.iss !== mayAct['iss']) return fail('actor_not_allowed');
  return undefined;
}

/**
 * Builds the Principal from verified claims. The caller has already checked signature, issuer,
 * audience and time claims; this checks delegation (`act`, `may_act`) and maps fields.
 */
export function principalFromClaims(
  claims: Claims,
  extraClaims: readonly string[],
): { ok: true; principal: Principal } | Failure {
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub === '') return fail('sub_missing');
  const chain = actorChain(claims);
  if (!chain.ok) return chain;
  const denied = checkMayAct(claims, chain.chain[0]);
  if (denied) return denied;
  const extra: Record<string, unknown> = {};
  for (const name of extraClaims) if (Object.hasOwn(claims, name)) extra[name] = deepFreeze(claims[name]);
  const amr = Array.isArray(claims['amr']) ? claims['amr'].filter((v): v is string => typeof v === 'string') : [];
  const principal: Principal = {
    issuer: claims['iss'] as string,
    user: sub,
    actor: chain.chain[0]?.sub,
    // Kept with the actor: an actor is (iss, sub), see principalKey.
    actorIssuer: chain.chain[0]?.iss,
    priorActors: Object.freeze(chain.chain.slice(1).map((a) => a.sub)),
    priorActorIssuers: Object.freeze(chain.chain.slice(1).map((a) => a.iss ?? null)),
    clientId: optionalString(claims['client_id']) ?? optionalString(claims['azp']),
    scopes: Object.freeze(scopesOf(claims)),
    sessionId: optionalString(claims['sid']),
    authTime: typeof claims['auth_time'] === 'number' ? claims['auth_time'] : undefined,
    acr: optionalString(claims['acr']),
    amr: Object.freeze(amr),
    issuedAt: typeof claims['iat'] === 'number' ? claims['iat'] : undefined,
    expiresAt: typeof claims['exp'] === 'number' ? claims['exp'] : undefined,
    tokenId: optionalString(claims['jti']),
    claims: Object.freeze(extra),
    anonymous: false,
  };
  return { ok: true, principal: Object.freeze(principal) };
}

/** The principal is cached and shared by every call with this token: nothing in it may change. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Token age in seconds at `nowMs` (undefined without `iat`). Age is derived, not stored, so cached principals stay exact. */
export function tokenAgeSeconds(p: Pick<Principal, 'issuedAt'>, nowMs: number): number | undefined {
  return p.issuedAt === undefined ? undefined : Math.max(0, Math.floor(nowMs / 1000) - p.issuedAt);
}
