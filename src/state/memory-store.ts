import { LRUCache } from 'lru-cache';
import { addToRunning, isEmptyFrom, newRunningCounter, plainWalk, windowSum, type RunningCounter } from './running-counter.js';
import type { StateStore } from './state-store.js';

/** Sub-buckets per sliding window: error is at most 1/BUCKETS of the window's oldest edge. */
const BUCKETS = 20;

interface WindowCounter {
  readonly bucketMs: number;
  /** bucket index (floor(now / bucketMs)) -> amount */
  readonly buckets: Map<number, number>;
}

/** Counters of one group (addToWindows): one LRU entry, one bucket map per member. */
interface WindowGroup {
  readonly bucketMs: number;
  readonly members: Map<string, RunningCounter>;
}

/**
 * Members per group. A group is one principal's counters, named by the caller (signals: per-tool
 * rate counters, one per tool the principal calls); past the bound, members whose window is empty
 * go first, then the longest-standing ones, so one entry cannot grow without bound.
 */
const MAX_GROUP_MEMBERS = 256;
/** Distinct window lengths kept per group (a group counted with several windows). */
const MAX_WINDOWS_PER_GROUP = 8;

// A sentinel so `undefined` can never be confused with "absent" in the cache.
interface Box {
  readonly v: unknown;
}

/**
 * Key prefixes of values an agent mints at will, each kind kept in an LRU of its own: resources
 * seen (up to 8 per call) and novelty (tools, sensitive argument values) from the signals
 * (src/signals/state-keys.ts), session records, Security Event Token ids
 * (src/events/set-receiver.ts), and the pending-request and decided markers of approvals
 * (src/approval/approval-manager.ts: an agent that asks and cancels in a loop leaves two per
 * call, kept for the approval timeout plus ten minutes). Calls add them whether or not they are allowed, so with one LRU
 * for everything a flood of calls naming fresh resources evicted other principals' burst
 * baselines, grants and session records: a later burst went unmeasured and a session's move to
 * a new address unnoticed. A flood now evicts only entries of its own kind, where losing one
 * errs strict (a resource or value counts as new again).
 */
export const CHURN_PREFIXES: readonly string[] = ['sig:vol:seen:', 'sig:nov:', 'sig:sess:', 'events:jti:', 'approval:'];
/** The kind of every value whose key has none of the CHURN_PREFIXES. */
const SHARED = CHURN_PREFIXES.length;

/** Index of the LRU that holds `key`: its churn kind's own, else SHARED. */
function kindOf(key: string): number {
  for (let i = 0; i < CHURN_PREFIXES.length; i++) if (key.startsWith(CHURN_PREFIXES[i] as string)) return i;
  return SHARED;
}

/**
 * Bounded in-memory StateStore. Values, window counters and counter groups are each kept in an
 * LRU of at most `maxEntries` entries (least recently used evicted first), so an attacker who
 * mints many principals cannot grow memory without bound; values of each kind in
 * CHURN_PREFIXES have an LRU of that size of their own.
 */
export class MemoryStateStore implements StateStore {
  /**
   * One LRU per kind: index i < CHURN_PREFIXES.length is that prefix's, then the shared one for
   * every other value. Each is created on first use, or by allocateWhenIdle: lru-cache allocates
   * its slots up front (about 20 ms of CPU and 5 MB per LRU at the default 200,000 entries), and
   * doing that for every kind in the constructor took some 150 ms of CPU before warden could
   * answer (its first tools/list came about 75 ms later than it does now).
   */
  private readonly lrus: (LRUCache<string, Box> | undefined)[] = [];
  /** Single counters; created on first use (the signals count in groups). */
  private windowsLru: LRUCache<string, WindowCounter> | undefined;
  /**
   * Counter groups by group name (not joined with the window: the name is usually a string the
   * caller keeps, whose hash V8 has already computed), then by window length.
   */
  private groupsLru: LRUCache<string, Map<number, WindowGroup>> | undefined;
  private readonly max: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.max = options.maxEntries ?? 100_000;
  }

  /**
   * Creates the LRUs every tool call needs (the signals' kinds, the shared values and the
   * counter groups) if not created yet, one per turn of the event loop, so it runs in the time
   * warden waits for its upstreams to start rather than before it can answer. A call that comes
   * first creates what it needs itself. Security Event Token ids, approval markers and single
   * counters wait for their first use: a warden without them saves their memory.
   */
  async allocateWhenIdle(): Promise<void> {
    const kinds = [...CHURN_PREFIXES.flatMap((prefix, i) => (prefix.startsWith('sig:') ? [i] : [])), SHARED];
    const steps: (() => unknown)[] = [...kinds.map((i) => () => this.lruAt(i)), () => this.groups()];
    for (const step of steps) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      step();
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.getSync<T>(key);
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.setSync(key, value, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return this.lrus[kindOf(key)]?.delete(key) ?? false;
  }

  /** The LRU of kind `i` (kindOf), created on first use. */
  private lruAt(i: number): LRUCache<string, Box> {
    return (this.lrus[i] ??= new LRUCache<string, Box>({ max: this.max, ttlAutopurge: false }));
  }

  private groups(): LRUCache<string, Map<number, WindowGroup>> {
    return (this.groupsLru ??= new LRUCache<string, Map<number, WindowGroup>>({ max: this.max }));
  }

  private windows(): LRUCache<string, WindowCounter> {
    return (this.windowsLru ??= new LRUCache<string, WindowCounter>({ max: this.max }));
  }

  async setIfAbsent<T>(key: string, value: T, ttlMs?: number): Promise<boolean> {
    return this.setIfAbsentSync(key, value, ttlMs);
  }

  /** Synchronous forms (same semantics) for hot paths that own a MemoryStateStore directly. */
  getSync<T>(key: string): T | undefined {
    return this.lrus[kindOf(key)]?.get(key)?.v as T | undefined;
  }

  setSync<T>(key: string, value: T, ttlMs?: number): void {
    this.lruAt(kindOf(key)).set(key, { v: value }, ttlMs !== undefined ? { ttl: ttlMs } : undefined);
  }

  setIfAbsentSync<T>(key: string, value: T, ttlMs?: number): boolean {
    const lru = this.lruAt(kindOf(key));
    if (lru.has(key)) return false;
    lru.set(key, { v: value }, ttlMs !== undefined ? { ttl: ttlMs } : undefined);
    return true;
  }

  async addToWindow(key: string, amount: number, windowMs: number, nowMs: number): Promise<number> {
    return this.addToWindowSync(key, amount, windowMs, nowMs);
  }

  async sumWindow(key: string, windowMs: number, nowMs: number): Promise<number> {
    return this.addToWindowSync(key, 0, windowMs, nowMs);
  }

  /** Synchronous form for hot paths that own a MemoryStateStore directly. */
  addToWindowSync(key: string, amount: number, windowMs: number, nowMs: number): number {
    const bucketMs = Math.max(1, Math.floor(windowMs / BUCKETS));
    const fullKey = `${windowMs}:${key}`;
    const windows = this.windows();
    let counter = windows.get(fullKey);
    if (!counter) {
      if (amount === 0) return 0;
      counter = { bucketMs, buckets: new Map() };
      windows.set(fullKey, counter);
    }
    const current = Math.floor(nowMs / bucketMs);
    return plainWalk(counter.buckets, amount, current, current - BUCKETS + 1);
  }

  async addToWindows(group: string, names: readonly string[], amounts: readonly number[], windowMs: number, nowMs: number): Promise<number[]> {
    return this.addToWindowsSync(group, names, amounts, windowMs, nowMs);
  }

  /** Synchronous form of addToWindows: one LRU lookup for the whole group. */
  addToWindowsSync(group: string, names: readonly string[], amounts: readonly number[], windowMs: number, nowMs: number): number[] {
    const bucketMs = Math.max(1, Math.floor(windowMs / BUCKETS));
    const groups = this.groups();
    let byWindow = groups.get(group);
    let g = byWindow?.get(windowMs);
    const current = Math.floor(nowMs / bucketMs);
    const sums: number[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const amount = amounts[i] ?? 0;
      let counter = g?.members.get(name);
      if (counter === undefined) {
        // As addToWindow: reading a counter that does not exist creates nothing.
        if (amount === 0) {
          sums.push(0);
          continue;
        }
        if (g === undefined) {
          g = { bucketMs, members: new Map() };
          if (byWindow === undefined) groups.set(group, (byWindow = new Map()));
          // Window lengths come from configuration; a long run of reloads must not pile them up.
          if (byWindow.size >= MAX_WINDOWS_PER_GROUP) byWindow.delete(byWindow.keys().next().value as number);
          byWindow.set(windowMs, g);
        }
        if (g.members.size >= MAX_GROUP_MEMBERS) pruneMembers(g.members, current - BUCKETS + 1);
        counter = newRunningCounter();
        g.members.set(name, counter);
      }
      sums.push(addToRunning(counter, amount, current, BUCKETS));
    }
    return sums;
  }

  async keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    // A churn kind's LRU holds only keys with its prefix: look in it only when that can overlap
    // the one asked for (grant lookups run on approve decisions and must not walk agent floods).
    const kinds = [SHARED, ...CHURN_PREFIXES.flatMap((p, i) => (p.startsWith(prefix) || prefix.startsWith(p) ? [i] : []))];
    for (const i of kinds) {
      for (const key of this.lrus[i]?.keys() ?? []) if (key.startsWith(prefix)) out.push(key);
    }
    return out;
  }

  healthy(): boolean {
    return true;
  }
}

/**
 * Makes room in a full group: members with an empty window first, else the one with the least in
 * its window (the first of those). Not the longest-standing one: that is the principal's overall
 * rate or its returned bytes, counted on every call, and an agent calling a few hundred distinct
 * tools evicted them, so they restarted at zero mid-window. Dropping the smallest count loses the
 * least a limit could be measured against.
 */
function pruneMembers(members: Map<string, RunningCounter>, oldest: number): void {
  let smallest: string | undefined;
  let least = Infinity;
  for (const [name, counter] of members) {
    if (isEmptyFrom(counter, oldest)) {
      members.delete(name);
      continue;
    }
    const sum = windowSum(counter, oldest);
    if (sum < least) {
      least = sum;
      smallest = name;
    }
  }
  if (members.size >= MAX_GROUP_MEMBERS && smallest !== undefined) members.delete(smallest);
}
