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
  /** Keys starting with `prefix` (for listing grants, sessions, pins). */
  keys(prefix: string): Promise<string[]>;
  /** False when the backing store is unreachable; callers then apply conservative local limits. */
  healthy(): boolean;
}
