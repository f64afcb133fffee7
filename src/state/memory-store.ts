import { LRUCache } from 'lru-cache';
import type { StateStore } from './state-store.js';

/** Sub-buckets per sliding window: error is at most 1/BUCKETS of the window's oldest edge. */
const BUCKETS = 20;

interface WindowCounter {
  readonly bucketMs: number;
  /** bucket index (floor(now / bucketMs)) -> amount */
  readonly buckets: Map<number, number>;
}

// A sentinel so `undefined` can never be confused with "absent" in the cache.
interface Box {
  readonly v: unknown;
}

/**
 * Bounded in-memory StateStore. Least-recently-used entries are evicted beyond `maxEntries`,
 * so an attacker who mints many principals cannot grow memory without bound.
 */
export class MemoryStateStore implements StateStore {
  private readonly values: LRUCache<string, Box>;
  private readonly windows: LRUCache<string, WindowCounter>;

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 100_000;
    this.values = new LRUCache<string, Box>({ max, ttlAutopurge: false });
    this.windows = new LRUCache<string, WindowCounter>({ max });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.getSync<T>(key);
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.setSync(key, value, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return this.values.delete(key);
  }

  async setIfAbsent<T>(key: string, value: T, ttlMs?: number): Promise<boolean> {
    return this.setIfAbsentSync(key, value, ttlMs);
  }

  /** Synchronous forms (same semantics) for hot paths that own a MemoryStateStore directly. */
  getSync<T>(key: string): T | undefined {
    return this.values.get(key)?.v as T | undefined;
  }

  setSync<T>(key: string, value: T, ttlMs?: number): void {
    this.values.set(key, { v: value }, ttlMs !== undefined ? { ttl: ttlMs } : undefined);
  }

  setIfAbsentSync<T>(key: string, value: T, ttlMs?: number): boolean {
    if (this.values.has(key)) return false;
    this.setSync(key, value, ttlMs);
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
    let counter = this.windows.get(fullKey);
    if (!counter) {
      if (amount === 0) return 0;
      counter = { bucketMs, buckets: new Map() };
      this.windows.set(fullKey, counter);
    }
    const current = Math.floor(nowMs / bucketMs);
    const oldest = current - BUCKETS + 1;
    let sum = 0;
    for (const [index, value] of counter.buckets) {
      if (index < oldest) counter.buckets.delete(index);
      else sum += value;
    }
    if (amount !== 0) {
      counter.buckets.set(current, (counter.buckets.get(current) ?? 0) + amount);
      sum += amount;
    }
    return sum;
  }

  async keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for (const key of this.values.keys()) if (key.startsWith(prefix)) out.push(key);
    return out;
  }

  healthy(): boolean {
    return true;
  }
}
