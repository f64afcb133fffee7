import { canonicalJson } from '../core/canonical-json.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import { compilePath, findValues, hasWildcard, MISSING, singleValueAt } from '../policy/safe-access.js';
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

/**
 * A stable string form of an argument value; undefined when absent. Whole, not a prefix: a value
 * padded past any prefix length would share an approved value's key and count as known. The
 * store key hashes it (state-keys.ts), so a long value never becomes a long key.
 */
export function valueKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return `s:${value}`;
  try {
    return `j:${canonicalJson(value)}`;
  } catch {
    return UNREPRESENTABLE;
  }
}

/** The key of a value canonical JSON cannot spell (a number JSON.parse read as Infinity). */
export const UNREPRESENTABLE = 'j:unrepresentable';

/** At most this many distinct values of one novelty argument are looked up per call. */
const MAX_NOVELTY_VALUES = 8;

/** The values of one sensitive argument in a call, as valueKeys. */
export interface NoveltyValues {
  /** Distinct values looked up in (and, after a success, remembered by) the store. */
  readonly keys: string[];
  /** More values than are looked up (or a search cut short): the argument counts as new. */
  readonly overflow: boolean;
}

/**
 * Every value at a novelty path: one for a plain path (an array stays one value), each one for a
 * path with `*` or `**`. Reading only the first let `payees: [known, new]` pass as known.
 */
export function noveltyValues(args: unknown, path: string): NoveltyValues {
  const segments = compilePath(path);
  if (!hasWildcard(segments)) {
    const v = singleValueAt(args, segments);
    const key = v === MISSING ? undefined : valueKey(v);
    // Unrepresentable values all share one key: none may make the others familiar.
    if (key === UNREPRESENTABLE) return { keys: [], overflow: true };
    return { keys: key === undefined ? [] : [key], overflow: false };
  }
  const found = findValues(args, segments);
  const keys = new Set<string>();
  for (const v of found.values) {
    const key = valueKey(v);
    if (key === undefined) continue;
    if (key === UNREPRESENTABLE) return { keys: [...keys], overflow: true };
    keys.add(key);
    if (keys.size > MAX_NOVELTY_VALUES) return { keys: [...keys].slice(0, MAX_NOVELTY_VALUES), overflow: true };
  }
  return { keys: [...keys], overflow: found.truncated };
}

/** Resource values of one call: a few checked against the store, the rest counted as new. */
export interface ResourceValues {
  /** Distinct values looked up in the store (at most MAX_RESOURCES_PER_CALL). */
  readonly values: string[];
  /**
   * Further distinct values in this call, not looked up (bounded store work) and counted as
   * new: batching many resources into one call (`id: [..500 ids..]`, `paths: [...]`) must not
   * hide them from the distinct-resource limit. Over-counting only makes the signal stricter.
   */
  readonly unchecked: number;
}

/** Items of a resource argument: a string or number, or those inside an array (one level). */
function resourceItems(v: unknown): unknown[] {
  return Array.isArray(v) ? v.slice(0, MAX_SCANNED_RESOURCES) : [v];
}

/** How many resource values of one call are read at all (a call with more counts this many). */
const MAX_SCANNED_RESOURCES = 10_000;

/** The resource values of a call (see ResourceValues). */
export function scanResources(req: SignalRequest, names: readonly string[]): ResourceValues {
  const values: string[] = [];
  const args: unknown = req.arguments;
  // Arguments are untrusted: anything but a plain object has no resources to count.
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return { values, unchecked: 0 };
  const distinct = new Set<string>();
  for (const name of names) {
    if (!Object.hasOwn(args, name)) continue;
    for (const v of resourceItems((args as Record<string, unknown>)[name])) {
      if (distinct.size >= MAX_SCANNED_RESOURCES) break;
      if (typeof v !== 'string' && typeof v !== 'number') continue;
      // The whole value (the store key hashes a long one): cut to a prefix, URLs padded in front
      // (`?pad=<4096 x a>&id=N`) were all one resource, and the distinct-resource limit never tripped.
      const key = `${name}=${String(v)}`;
      if (distinct.has(key)) continue;
      distinct.add(key);
      if (values.length < MAX_RESOURCES_PER_CALL) values.push(key);
    }
  }
  return { values, unchecked: distinct.size - values.length };
}

/** The resource values of a call that are looked up in the store. */
export function resourceValues(req: SignalRequest, names: readonly string[]): string[] {
  return scanResources(req, names).values;
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
