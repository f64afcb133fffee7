import type { Principal } from '../core/principal.js';
import { printable } from './printable.js';

/**
 * Who an event (or a manual revocation) is about, reduced to the identifiers warden can compare
 * with a Principal. Every member that is set must match (a `complex` subject with `user` and
 * `session` means that session of that user only).
 */
export interface SubjectMatch {
  /** Token issuer; only set for `iss_sub` subjects. */
  readonly issuer?: string;
  /** Principal.user (`sub`). */
  readonly user?: string;
  /** Compared with the configured e-mail claim, or with `user` when that looks like an address. */
  readonly email?: string;
  /** Identity-provider session id (Principal.sessionId, `sid`). */
  readonly idpSession?: string;
  /** Warden's own downstream session id (manual revocation). */
  readonly wardenSession?: string;
  /** An agent in the delegation chain (Principal.actor or one of Principal.priorActors). */
  readonly agent?: string;
  /** Compared with the configured device claim. */
  readonly device?: string;
}

export interface SubjectClaims {
  readonly emailClaim: string;
  readonly deviceClaim: string;
}

export type ParsedSubject =
  | { readonly kind: 'ok'; readonly match: SubjectMatch }
  | { readonly kind: 'unsupported'; readonly detail: string };

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** One simple subject identifier (RFC 9493 formats) → the parts warden can match. */
function simpleSubject(raw: unknown, role: 'user' | 'session' | 'device'): SubjectMatch | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const s = raw as Record<string, unknown>;
  const id = (() => {
    switch (s.format) {
      case 'iss_sub': {
        const iss = str(s.iss);
        const sub = str(s.sub);
        return iss && sub ? { iss, id: sub } : undefined;
      }
      case 'opaque':
        return str(s.id) ? { id: s.id as string } : undefined;
      case 'email':
        return str(s.email) ? { email: s.email as string } : undefined;
      case 'account': {
        // `acct:user@host` (RFC 7565): matched like an e-mail address.
        const uri = str(s.uri);
        return uri?.startsWith('acct:') ? { email: uri.slice(5) } : undefined;
      }
      default:
        return undefined;
    }
  })();
  if (!id) return undefined;
  if ('email' in id) return role === 'user' ? { email: id.email } : undefined;
  if (role === 'session') return { idpSession: id.id, ...(id.iss ? { issuer: id.iss } : {}) };
  if (role === 'device') return { device: id.id };
  return { user: id.id, ...(id.iss ? { issuer: id.iss } : {}) };
}

/**
 * Parses a `sub_id` (SSF) or an event-level `subject` (older CAEP drafts). `complex` subjects
 * combine `user`, `session` and `device` members; all must match.
 */
export function parseSubject(raw: unknown): ParsedSubject {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { kind: 'unsupported', detail: 'subject is missing or not an object' };
  }
  const s = raw as Record<string, unknown>;
  // Older CAEP drafts used `subject_type` instead of `format`.
  const format = s.format ?? s.subject_type;
  const normalised = format === s.format ? s : { ...s, format };
  if (format === 'complex') {
    let match: SubjectMatch = {};
    for (const role of ['user', 'session', 'device'] as const) {
      if (s[role] === undefined) continue;
      const part = simpleSubject(s[role], role);
      if (!part) return { kind: 'unsupported', detail: `complex subject member '${role}' has an unsupported format` };
      match = { ...match, ...part };
    }
    if (Object.keys(match).length === 0) return { kind: 'unsupported', detail: 'complex subject has no user, session or device' };
    return { kind: 'ok', match };
  }
  const match = simpleSubject(normalised, 'user');
  return match ? { kind: 'ok', match } : { kind: 'unsupported', detail: `subject format '${printable(format)}' is not supported` };
}

/** Most identifiers taken from one `aliases` subject (each becomes its own registry entry). */
const MAX_ALIASES = 16;

/**
 * Every subject a `sub_id` names: one, or for RFC 9493 `aliases` one per supported identifier (any
 * of them names the subject, so each must be matched; an unsupported one is skipped, not fatal).
 */
export function parseSubjects(raw: unknown): { readonly kind: 'ok'; readonly matches: readonly SubjectMatch[] } | Extract<ParsedSubject, { kind: 'unsupported' }> {
  const s = raw as Record<string, unknown> | null;
  if (s === null || typeof s !== 'object' || Array.isArray(s) || s.format !== 'aliases') {
    const one = parseSubject(raw);
    return one.kind === 'ok' ? { kind: 'ok', matches: [one.match] } : one;
  }
  const ids = Array.isArray(s.identifiers) ? s.identifiers.slice(0, MAX_ALIASES) : [];
  // Nested aliases are not allowed by RFC 9493; treat them as unsupported rather than recurse.
  const matches = ids
    .filter((id) => (id as Record<string, unknown> | null)?.format !== 'aliases')
    .map((id) => parseSubject(id))
    .flatMap((p) => (p.kind === 'ok' ? [p.match] : []));
  return matches.length > 0 ? { kind: 'ok', matches } : { kind: 'unsupported', detail: 'aliases subject has no supported identifier' };
}

/**
 * An e-mail address folded for comparison: ASCII letters to lower case, nothing else.
 * toLowerCase() also folds other characters, some onto ASCII ones (KELVIN SIGN U+212A is `k`),
 * so an address a user could set for itself (`\u212Aate@acme`) was another user's (`kate@acme`):
 * that user's claims changes raised its claims, and revoking it revoked the other user.
 */
export function foldEmail(address: string): string {
  // Every call's revocation check folds the caller's addresses: an all-ASCII one (nearly all) is
  // folded by toLowerCase() alone, which then changes A-Z only.
  return NON_ASCII.test(address) ? address.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : address.toLowerCase();
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The principal's e-mail addresses (folded, see foldEmail): the configured claim, and `user` when it looks
 * like one. Both: an event naming the address in `sub` must not miss because the e-mail claim
 * holds another address of the same person (or the other way round).
 */
export function principalEmails(principal: Principal, claims: SubjectClaims): string[] {
  const out: string[] = [];
  const claimed = principal.claims[claims.emailClaim];
  if (typeof claimed === 'string') out.push(foldEmail(claimed));
  const user = foldEmail(principal.user);
  if (user.includes('@') && !out.includes(user)) out.push(user);
  return out;
}

/** True when every member the match sets agrees with this principal / warden session. */
export function matchesSubject(
  match: SubjectMatch,
  principal: Principal,
  sessionId: string | undefined,
  claims: SubjectClaims,
): boolean {
  if (match.issuer !== undefined && match.issuer !== principal.issuer) return false;
  if (match.user !== undefined && match.user !== principal.user) return false;
  if (match.email !== undefined && !principalEmails(principal, claims).includes(foldEmail(match.email))) return false;
  if (match.idpSession !== undefined && match.idpSession !== principal.sessionId) return false;
  if (match.wardenSession !== undefined && match.wardenSession !== sessionId) return false;
  // A revoked agent that handed the task on (nested `act`) is still in the chain: it is hit too.
  if (match.agent !== undefined && match.agent !== principal.actor && !principal.priorActors.includes(match.agent)) return false;
  if (match.device !== undefined && principal.claims[claims.deviceClaim] !== match.device) return false;
  return true;
}

/**
 * Index keys under which an entry for this match is stored: one key per identifying member, so
 * `evaluate` only looks at entries that could possibly match the caller.
 */
export function indexKeyOf(match: SubjectMatch): string {
  if (match.wardenSession !== undefined) return `w:${match.wardenSession}`;
  if (match.idpSession !== undefined) return `s:${match.idpSession}`;
  if (match.user !== undefined) return `u:${match.user}`;
  if (match.email !== undefined) return `e:${foldEmail(match.email)}`;
  if (match.agent !== undefined) return `a:${match.agent}`;
  if (match.device !== undefined) return `d:${match.device}`;
  return '*';
}

/** The index keys a principal could be found under (see indexKeyOf). */
export function principalIndexKeys(principal: Principal, sessionId: string | undefined, claims: SubjectClaims): string[] {
  const keys = [`u:${principal.user}`];
  if (sessionId !== undefined) keys.push(`w:${sessionId}`);
  if (principal.sessionId !== undefined) keys.push(`s:${principal.sessionId}`);
  for (const email of principalEmails(principal, claims)) keys.push(`e:${email}`);
  if (principal.actor !== undefined) keys.push(`a:${principal.actor}`);
  // Once per agent: an entry found under two keys would be applied twice.
  for (const prior of principal.priorActors) if (!keys.includes(`a:${prior}`)) keys.push(`a:${prior}`);
  // A user subject naming an agent of the chain (see registry-rules matchesAsAgent).
  for (const agent of [principal.actor, ...principal.priorActors]) {
    if (agent !== undefined && !keys.includes(`u:${agent}`)) keys.push(`u:${agent}`);
  }
  const device = principal.claims[claims.deviceClaim];
  if (typeof device === 'string') keys.push(`d:${device}`);
  return keys;
}

/** Short readable form for audit records and messages. */
export function describeSubject(match: SubjectMatch): string {
  return Object.entries(match)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
