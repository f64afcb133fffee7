import { ACTION_SEVERITY, type Reason, type Sensitivity } from '../core/decision.js';
import { actorIds, type Principal } from '../core/principal.js';
import { scopesOf } from '../identity/claims-to-principal.js';
import type { EvaluateResult, RegistryEntry } from './registry-entry.js';
import { matchesSubject, type SubjectClaims, type SubjectMatch } from './subject.js';

/**
 * True when an entry applies to this principal on this warden session: the subject matches and
 * the token is not newer than the entry. A revoked warden session is dead whatever token it
 * presents; a token without `iat` cannot prove it is newer, so it is affected (fail closed).
 */
export function entryAffects(entry: RegistryEntry, principal: Principal, sessionId: string | undefined, claims: SubjectClaims): boolean {
  if (!matchesSubject(entry.match, principal, sessionId, claims) && !(entry.kind !== 'claims' && matchesAsAgent(entry.match, principal, sessionId, claims))) {
    return false;
  }
  if (entry.kind === 'revoke' && entry.match.wardenSession !== undefined) return true;
  return principal.issuedAt === undefined || principal.issuedAt * 1000 <= entry.at;
}

/**
 * A user subject (`sub`) that is an agent in the principal's delegation chain: a revoked or
 * stepped-up agent identity also covers the tokens in which it acts for users (they were obtained
 * with its credential). Claim overrides are never carried over: an agent's claims are not the user's.
 * An agent is (iss, sub): the subject's issuer (`iss_sub`) is compared with the agent's own `act.iss`,
 * or with the token's issuer when the `act` names none (then its `sub` is in that issuer's namespace).
 * Compared with the token's issuer only, the agent's own issuer could never revoke it, and a
 * revocation of the token issuer's agent hit every other namespace's agent of that name.
 */
function matchesAsAgent(match: SubjectMatch, principal: Principal, sessionId: string | undefined, claims: SubjectClaims): boolean {
  if (match.user === undefined) return false;
  return actorIds(principal).some(
    (a) => a.sub === match.user && matchesSubject(match, { ...principal, user: a.sub, issuer: a.iss ?? principal.issuer }, sessionId, claims),
  );
}

const SENSITIVITY_RANK: Readonly<Record<Sensitivity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/** True when a call of `sensitivity` falls under a step-up that starts at `minSensitivity`. */
export function needsStepUp(sensitivity: Sensitivity, minSensitivity: Sensitivity): boolean {
  return SENSITIVITY_RANK[sensitivity] >= SENSITIVITY_RANK[minSensitivity];
}

type StepUp = Extract<EvaluateResult, { kind: 'step_up' }>;

/** The stricter of two step-ups: the stricter action, then the lower threshold. */
export function pickStepUp(current: StepUp | undefined, entry: Extract<RegistryEntry, { kind: 'step_up' }>): StepUp {
  const next: StepUp = {
    kind: 'step_up',
    minSensitivity: entry.minSensitivity,
    action: entry.action,
    eventId: entry.eventId,
    reason: entry.reason,
  };
  if (!current) return next;
  const a = ACTION_SEVERITY[next.action] - ACTION_SEVERITY[current.action];
  if (a !== 0) return a > 0 ? next : current;
  return SENSITIVITY_RANK[next.minSensitivity] < SENSITIVITY_RANK[current.minSensitivity] ? next : current;
}

/**
 * The stricter of two evaluations of one call: a revocation, then the stricter step-up
 * (see pickStepUp), then none.
 */
export function stricterResult(a: EvaluateResult, b: EvaluateResult): EvaluateResult {
  if (a.kind === 'revoked') return a;
  if (b.kind === 'revoked' || a.kind === 'ok') return b;
  if (b.kind === 'ok') return a;
  const d = ACTION_SEVERITY[b.action] - ACTION_SEVERITY[a.action];
  if (d !== 0) return d > 0 ? b : a;
  return SENSITIVITY_RANK[b.minSensitivity] < SENSITIVITY_RANK[a.minSensitivity] ? b : a;
}

// Claims that describe who the token is for; an event cannot rewrite identity, only attributes.
const IDENTITY_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'act', 'may_act', 'client_id', 'azp', 'sid']);

function isScopeValue(v: unknown): boolean {
  return typeof v === 'string' || Array.isArray(v);
}

/**
 * Applies `token-claims-change` overrides, oldest first. Identity claims are never overridden;
 * `scope`/`scp` and `acr` also update Principal.scopes / Principal.acr.
 */
export function applyClaimOverrides(principal: Principal, entries: readonly RegistryEntry[]): Principal {
  const ordered = [...entries].sort((x, y) => x.at - y.at);
  let claims: Record<string, unknown> = { ...principal.claims };
  let scopes = principal.scopes;
  let acr = principal.acr;
  for (const entry of ordered) {
    if (entry.kind !== 'claims') continue;
    // Scopes are read from `scope` and `scp` (string or array), as from a token: a reduction the
    // IdP writes as `scp: [...]` (or `scope` as an array) must take the dropped scopes away.
    if (isScopeValue(entry.claims['scope']) || isScopeValue(entry.claims['scp'])) {
      scopes = scopesOf({ scope: entry.claims['scope'], scp: entry.claims['scp'] });
    }
    for (const [name, value] of Object.entries(entry.claims)) {
      if (IDENTITY_CLAIMS.has(name) || name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
      if (name === 'acr' && typeof value === 'string') acr = value;
      claims = { ...claims, [name]: value };
    }
  }
  return { ...principal, claims, scopes, acr };
}

/**
 * What the guard does with an evaluate() result for a call of `sensitivity`: `block` for a revoked
 * subject, the step-up action when the call is sensitive enough, else undefined (no effect).
 */
export function evaluationVerdict(
  result: EvaluateResult,
  sensitivity: Sensitivity,
): { readonly action: 'approve' | 'block'; readonly reason: Reason } | undefined {
  switch (result.kind) {
    case 'ok':
      return undefined;
    case 'revoked':
      return { action: 'block', reason: { code: 'subject.revoked', weight: 100, detail: `access revoked: ${result.reason}` } };
    case 'step_up':
      if (!needsStepUp(sensitivity, result.minSensitivity)) return undefined;
      return {
        action: result.action,
        reason: { code: 'subject.step_up', weight: 0, detail: `step-up required for ${sensitivity} tools: ${result.reason}` },
      };
  }
}
