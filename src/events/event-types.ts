import type { EventsConfig, Reaction } from './events-config.js';
import { printable } from './printable.js';

export const CAEP_PREFIX = 'https://schemas.openid.net/secevent/caep/event-type/';

export const CAEP_EVENTS = [
  'session-revoked',
  'credential-change',
  'assurance-level-change',
  'device-compliance-change',
  'risk-level-change',
  'token-claims-change',
] as const;
export type CaepEvent = (typeof CAEP_EVENTS)[number];

/** What one event asks the registry to do, after its trigger condition was checked. */
export type EventReaction =
  | { readonly kind: 'revoke'; readonly reason: string }
  | { readonly kind: 'step_up'; readonly reason: string }
  | { readonly kind: 'claims'; readonly reason: string; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly kind: 'none'; readonly reason: string };

/** Short CAEP name for a full event-type URI, or undefined for anything else. */
export function caepName(uri: string): CaepEvent | undefined {
  if (!uri.startsWith(CAEP_PREFIX)) return undefined;
  const name = uri.slice(CAEP_PREFIX.length);
  return (CAEP_EVENTS as readonly string[]).includes(name) ? (name as CaepEvent) : undefined;
}

function lower(v: unknown): string | undefined {
  return typeof v === 'string' ? v.toLowerCase() : undefined;
}

/** Configured levels as lists, each lowest first: a single list is one list. */
function listsOf(levels: readonly string[] | readonly (readonly string[])[]): readonly (readonly string[])[] {
  return levels.every((l) => typeof l === 'string') ? [levels as readonly string[]] : (levels as readonly (readonly string[])[]);
}

/** Position of `level` in `order` (case-insensitive), -1 when absent or not a string. */
function rank(order: readonly string[], level: unknown): number {
  const l = lower(level);
  return l === undefined ? -1 : order.findIndex((x) => x.toLowerCase() === l);
}

/**
 * -1 lower, 0 same, 1 higher: `current` vs `previous` on the one list that holds both; undefined
 * when no list does (either unknown, or they belong to different namespaces, which are not ordered).
 */
function direction(lists: readonly (readonly string[])[], previous: unknown, current: unknown): -1 | 0 | 1 | undefined {
  for (const order of lists) {
    const p = rank(order, previous);
    const c = rank(order, current);
    if (p >= 0 && c >= 0) return c === p ? 0 : c > p ? 1 : -1;
  }
  return undefined;
}

/** True when `level` is on a list and not at its top: a subject could have held a higher one. */
function belowTop(lists: readonly (readonly string[])[], level: unknown): boolean {
  return lists.some((order) => {
    const r = rank(order, level);
    return r >= 0 && r < order.length - 1;
  });
}

/** Whether the event's own condition for a reaction holds (a downgrade, a revoke, ...). */
function triggered(name: CaepEvent, event: Record<string, unknown>, config: EventsConfig): { on: boolean; why: string } {
  switch (name) {
    case 'session-revoked':
      return { on: true, why: 'session revoked by the identity provider' };
    case 'credential-change': {
      const t = lower(event.change_type) ?? '';
      const on = config.credentialChangeTypes.map((x) => x.toLowerCase()).includes(t);
      return { on, why: `credential ${t || '(no change_type)'} (${printable(event.credential_type ?? 'unknown credential')})` };
    }
    case 'assurance-level-change': {
      // `change_direction` is authoritative when present; otherwise compare the configured order.
      const dir = lower(event.change_direction);
      const lists = listsOf(config.levels.assurance);
      const d = dir === 'decrease' ? -1 : dir === 'increase' ? 1 : direction(lists, event.previous_level, event.current_level);
      // CAEP makes `previous_level` optional ("the Receiver MUST assume that the previous assurance
      // level is unknown"). Without a direction, a current level below the top of its list may be a
      // drop: stepped up (fail closed), or a user lowered to aal1 kept calling at aal3's trust.
      const lowered = d === -1 || (d === undefined && belowTop(lists, event.current_level));
      return { on: lowered, why: `assurance level ${event.previous_level === undefined ? '(unknown)' : printable(event.previous_level)} -> ${printable(event.current_level)}` };
    }
    case 'device-compliance-change': {
      const on = lower(event.current_status) === 'not-compliant';
      return { on, why: `device compliance ${printable(event.previous_status)} -> ${printable(event.current_status)}` };
    }
    case 'risk-level-change': {
      const risk = [config.levels.risk];
      const d = direction(risk, event.previous_level, event.current_level);
      // An unknown previous level with a known current level above the lowest is still a raise.
      const raised = d === 1 || (d === undefined && direction(risk, config.levels.risk[0], event.current_level) === 1);
      return { on: raised, why: `risk level ${printable(event.previous_level)} -> ${printable(event.current_level)}` };
    }
    case 'token-claims-change':
      return { on: true, why: 'token claims changed' };
  }
}

/**
 * Decides the reaction to one event: the configured reaction for its type when the type's
 * trigger holds (a downgrade, a revoking credential change, ...), otherwise none.
 */
export function reactionFor(uri: string, event: Record<string, unknown>, config: EventsConfig): EventReaction {
  const name = caepName(uri);
  if (!name) return { kind: 'none', reason: `event type ${uri} is not acted upon` };
  const { on, why } = triggered(name, event, config);
  if (!on) return { kind: 'none', reason: `${why}: no reaction configured for this change` };
  const reaction: Reaction = config.reactions[name];
  switch (reaction) {
    case 'ignore':
      return { kind: 'none', reason: `${why}: ignored by configuration` };
    case 'revoke':
    case 'step_up':
      return { kind: reaction, reason: `${name}: ${why}` };
    case 'claims': {
      const claims = event.claims;
      if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
        return { kind: 'none', reason: `${name}: no claims object in the event` };
      }
      // An override is kept in the revocations file: one JSON.stringify cannot write (thousands of
      // levels) would make every later save fail, so no revocation would survive a restart.
      if (!nestedAtMost(claims, MAX_CLAIMS_DEPTH)) {
        return { kind: 'none', reason: `${name}: claims nested deeper than ${MAX_CLAIMS_DEPTH} levels` };
      }
      return { kind: 'claims', reason: `${name}: ${why}`, claims: claims as Record<string, unknown> };
    }
  }
}

/** Deepest nesting of a claims override; real token claims nest a few levels (address, realm roles). */
export const MAX_CLAIMS_DEPTH = 32;

/** True when `value` nests objects/arrays at most `max` levels. Iterative: the input may be deeper than the stack. */
function nestedAtMost(value: object, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return false;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return true;
}

/** Event time in ms: CAEP `event_timestamp` (seconds) when present, else the SET's `iat`. */
export function eventTimeMs(event: Record<string, unknown>, setIat: number): number {
  const ts = event.event_timestamp;
  return typeof ts === 'number' && Number.isFinite(ts) ? ts * 1000 : setIat * 1000;
}
