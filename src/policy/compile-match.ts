import picomatch from 'picomatch';
import type { Principal } from '../core/principal.js';
import type { Action, Sensitivity } from '../core/decision.js';
import { compileConditions, type CompiledCondition } from './compile-condition.js';
import type { RuleMatch } from './policy-schema.js';

export type NameMatcher = (name: string) => boolean;

const LITERAL = /^[A-Za-z0-9_.\-@+:/|=~%]+$/;

/** True when a glob has no glob syntax, so it can be an exact-name index key. */
export function isLiteral(glob: string): boolean {
  return LITERAL.test(glob);
}

/**
 * Names matched here (user and agent ids, tool and upstream names) are identifiers, not paths,
 * but picomatch reads `/` as a path separator that `*` never crosses (nor `..` segments):
 * `*@contractor.example` missed the valid address `x/y@contractor.example`, `agents: ['*']`
 * every SPIFFE-style agent id, and `tools: ['*']` a tool a lone upstream lists as `fs/read`
 * (names of a single upstream reach the policy untouched). Names and globs are both read with
 * `%` and `/` percent-encoded, so no `/` is left for picomatch; the encoding is one-to-one and
 * globs never contain `%`, so a `%` in a name stays literal.
 */
function nameText(s: string): string {
  return s.includes('/') || s.includes('%') ? s.replace(/%/g, '%25').replace(/\//g, '%2F') : s;
}

/** One matcher for a list of globs (any matches); undefined list matches everything. */
export function compileGlobs(globs: readonly string[] | undefined): NameMatcher | undefined {
  if (!globs) return undefined;
  const match = compileEncodedGlobs(globs.map(nameText));
  return (name) => match(nameText(name));
}

function compileEncodedGlobs(globs: readonly string[]): NameMatcher {
  if (globs.every(isLiteral)) {
    const set = new Set(globs);
    return (name) => set.has(name);
  }
  const literals = new Set(globs.filter(isLiteral));
  const matchers = globs.filter((g) => !isLiteral(g)).map((g) => picomatch(g, { dot: true }));
  return (name) => literals.has(name) || matchers.some((m) => m(name));
}

/** Matches the identity part of a rule: user, agent, claims, scopes. */
export type PrincipalMatcher = (p: Principal) => boolean;

export function compilePrincipalMatch(m: RuleMatch): PrincipalMatcher | undefined {
  // Exact: an issuer is a URL, and `sub` is only unique within one (RFC 7519 4.1.2), so a rule
  // about alice at one identity provider must be able to leave out an alice at another.
  const issuers = m.issuers ? new Set(m.issuers) : undefined;
  const users = compileGlobs(m.users);
  const agents = compileGlobs(m.agents);
  // Exact, like `issuers`: an agent's `sub` is only a name within its issuer's namespace (act.iss,
  // or the token's issuer when the act names none). `agents` alone matches the name in any
  // namespace, as it always did; this narrows it to the namespaces the rule trusts.
  const agentIssuers = m.agentIssuers ? new Set(m.agentIssuers) : undefined;
  // Claims are signed identity data: membership semantics ("some group is a or b").
  const claims = compileConditions(m.claims, 'set');
  const { agentPresent, scopes } = m;
  if (!issuers && !users && !agents && !agentIssuers && !claims && agentPresent === undefined && !scopes) return undefined;
  return (p) => {
    if (issuers && !issuers.has(p.issuer)) return false;
    if (users && !users(p.user)) return false;
    // A call without an acting agent never matches an `agents` list.
    if (agents && (p.actor === undefined || !agents(p.actor))) return false;
    // Like `agents`: a call without an acting agent has no agent issuer to match.
    if (agentIssuers && (p.actor === undefined || !agentIssuers.has(p.actorIssuer ?? p.issuer))) return false;
    if (agentPresent !== undefined && (p.actor !== undefined) !== agentPresent) return false;
    if (claims && !claims(p.claims)) return false;
    if (scopes) {
      const has = new Set(p.scopes);
      if (scopes.all && !scopes.all.every((s) => has.has(s))) return false;
      if (scopes.any && !scopes.any.some((s) => has.has(s))) return false;
      if (scopes.none && scopes.none.some((s) => has.has(s))) return false;
    }
    return true;
  };
}

/** The per-call part of a rule: arguments, computed sensitivity, score, reasons. */
export interface CallMatch {
  readonly args: CompiledCondition | undefined;
  readonly sensitivity: ReadonlySet<Sensitivity> | undefined;
  readonly scoreGte: number | undefined;
  readonly scoreLt: number | undefined;
  readonly reasons: readonly string[] | undefined;
}

/**
 * Argument conditions are read the strict way for the rule's action: an `allow` rule needs every
 * value to qualify, any other rule fires when any value does (see Quantifier).
 */
export function compileCallMatch(m: RuleMatch, action: Action): CallMatch {
  return {
    args: compileConditions(m.arguments, action === 'allow' ? 'every' : 'any'),
    sensitivity: m.sensitivity ? new Set(m.sensitivity) : undefined,
    scoreGte: m.score?.gte,
    scoreLt: m.score?.lt,
    reasons: m.reasons,
  };
}
