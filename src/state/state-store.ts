/**
 * Everything that must later be shared between replicas (rate windows, baselines, revocations,
 * pending approvals, grants, pins, seen `jti`s) goes through this interface. The default is
 * in-memory and bounded; a Redis implementation slots in without touching the stages.
 *
 * Keys are namespaced by the caller: `<area>:<key>` (e.g. `rate:alice|agent-7|tool:fs.read`).
 */
export interface StateStore {
  get<T>(key: string): Promise<T | undefined>;
  /** Set a value; `ttlMs` bounds how long it lives (omit for "until evicted"). */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Set only if absent. Returns true when this call set it (once-only use, replay checks). */
  setIfAbsent<T>(key: string, value: T, ttlMs?: number): Promise<boolean>;
  /** Add `amount` at `nowMs` to a sliding-window counter; returns the sum inside the window. */
  addToWindow(key: string, amount: number, windowMs: number, nowMs: number): Promise<number>;
  /** Sum inside the window without adding. */
  sumWindow(key: string, windowMs: number, nowMs: number): Promise<number>;
  /**
   * Several sliding-window counters of one `group` (e.g. one principal's counters), in one
   * operation: adds `amounts[i]` to counter `names[i]` at `nowMs` and returns each counter's sum
   * inside the window, in order. An amount of 0 only reads (sumWindow). Each counter means what
   * `addToWindow` means; the counters of a group share one window, one entry (they live and are
   * evicted together) and one round trip (a shared store keeps a group as one hash). Counter
   * names are group-local: `addToWindow(key)` and a member of group `key` are different counters.
   */
  addToWindows(group: string, names: readonly string[], amounts: readonly number[], windowMs: number, nowMs: number): Promise<number[]>;
  /** Keys starting with `prefix` (for listing grants, sessions, pins). */
  keys(prefix: string): Promise<string[]>;
  /** False when the backing store is unreachable; callers then apply conservative local limits. */
  healthy(): boolean;
}
