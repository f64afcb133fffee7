import { canonicalJson } from '../core/canonical-json.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import { MAX_STRING } from '../policy/safe-access.js';
import type { BurstState } from './burst.js';
import type { BurstSignal, SignalOptions } from './signals.js';
import { members } from './state-keys.js';

/** Pieces shared by the async (any StateStore) and synchronous (in-memory) signal collectors. */
export const SESSION_TTL_MS = 24 * 3_600_000;
/** At most this many resource-like arguments are counted per call (bounded store work). */
const MAX_RESOURCES_PER_CALL = 8;

export interface SessionRecord {
  readonly address: string;
  readonly client: string;
}

export type SignalRequest = Pick<
  ToolCallRequest,
  'principal' | 'upstream' | 'tool' | 'arguments' | 'sessionId' | 'remoteAddress' | 'userAgent' | 'clientInfo'
>;

/** A stable, bounded string form of an argument value for hashing; undefined when absent. */
export function valueKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return `s:${value.slice(0, MAX_STRING)}`;
  try {
    return `j:${canonicalJson(value).slice(0, MAX_STRING)}`;
  } catch {
    return 'j:unrepresentable';
  }
}

export function resourceValues(req: SignalRequest, names: readonly string[]): string[] {
  const out: string[] = [];
  const args: unknown = req.arguments;
  // Arguments are untrusted: anything but a plain object has no resources to count.
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return out;
  for (const name of names) {
    if (out.length >= MAX_RESOURCES_PER_CALL) break;
    if (!Object.hasOwn(args, name)) continue;
    const v = (args as Record<string, unknown>)[name];
    if (typeof v === 'string' || typeof v === 'number') out.push(`${name}=${String(v).slice(0, MAX_STRING)}`);
  }
  return out;
}

/** What the session's first call saw (address, client), compared on later calls. */
export function contextOf(req: SignalRequest): SessionRecord {
  return {
    address: req.remoteAddress ?? '',
    client: `${req.clientInfo?.name ?? ''}/${req.clientInfo?.version ?? ''}|${req.userAgent ?? ''}`,
  };
}

export function burstSignal(s: BurstState): BurstSignal {
  return { current: s.count, baseline: s.samples > 0 ? s.ewma : undefined, samples: s.samples };
}

/** Members of the rate group a call counts in: its tool, its tool class, all calls. */
export function rateMembers(req: SignalRequest, o: SignalOptions): readonly string[] {
  return [members.rateTool(req.upstream, req.tool), members.rateClass(o.toolClass), members.rateAll];
}
