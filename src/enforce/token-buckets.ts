import { LRUCache } from 'lru-cache';

interface BucketState {
  /** May go negative: a negative balance is tokens already promised to waiting calls. */
  tokens: number;
  updatedAt: number;
}

/** Token buckets keyed by string, bounded in number (LRU). Pure arithmetic; time is passed in. */
export class TokenBuckets {
  private readonly states: LRUCache<string, BucketState>;

  constructor(maxKeys: number) {
    this.states = new LRUCache<string, BucketState>({ max: maxKeys });
  }

  private state(key: string, burst: number, perMs: number, now: number): BucketState {
    const s = this.states.get(key) ?? { tokens: burst, updatedAt: now };
    const elapsed = Math.max(0, now - s.updatedAt);
    s.tokens = Math.min(burst, s.tokens + elapsed * perMs);
    s.updatedAt = now;
    this.states.set(key, s);
    return s;
  }

  /** Milliseconds until one token is available in this bucket (0 when one is there now). */
  waitFor(key: string, burst: number, perMs: number, now: number): number {
    const s = this.state(key, burst, perMs, now);
    return s.tokens >= 1 ? 0 : Math.ceil((1 - s.tokens) / perMs);
  }

  /** Takes one token (possibly into debt, which reserves the next refill for this caller). */
  take(key: string, burst: number, perMs: number, now: number): void {
    this.state(key, burst, perMs, now).tokens -= 1;
  }

  /** Gives a token back (a reserved call was cancelled or rejected before running). */
  refund(key: string, burst: number, perMs: number, now: number): void {
    const s = this.state(key, burst, perMs, now);
    s.tokens = Math.min(burst, s.tokens + 1);
  }
}
