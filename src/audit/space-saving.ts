/** One monitored key: its estimated count, how much of that may belong to keys it replaced, and its stats. */
export interface Counter<V> {
  readonly key: string;
  /** Estimated count: at least the true count, at most `error` more. */
  count: number;
  /** Counts inherited from the evicted key this counter replaced (0 while nothing was evicted). */
  error: number;
  /** The caller's stats for the key, counted from when this counter took it on. */
  readonly value: V;
}

/**
 * Space-Saving (Metwally, Agrawal, El Abbadi 2005): the heavy hitters of a stream of keys in a
 * fixed number of counters. While the distinct keys fit, every count is exact. Past that, a new
 * key takes over the counter with the smallest count (and inherits it as its error): every key
 * whose true count exceeds total/capacity is still monitored, and each count overestimates by at
 * most its error (≤ total/capacity). The counters sit in a min-heap, so an update is O(log k)
 * and memory is `capacity` counters whatever the stream holds.
 */
export class SpaceSaving<V> {
  private readonly heap: Counter<V>[] = [];
  private readonly index = new Map<string, number>();
  private evictions = 0;

  constructor(
    readonly capacity: number,
    private readonly fresh: (key: string) => V,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** Counts `weight` (≥ 0) for `key`; returns its counter so the caller can update its stats. */
  add(key: string, weight = 1): Counter<V> {
    const at = this.index.get(key);
    if (at !== undefined) {
      const c = this.heap[at] as Counter<V>;
      c.count += weight;
      this.down(at);
      return c;
    }
    if (this.heap.length < this.capacity) {
      const c: Counter<V> = { key, count: weight, error: 0, value: this.fresh(key) };
      this.heap.push(c);
      this.index.set(key, this.heap.length - 1);
      this.up(this.heap.length - 1);
      return c;
    }
    // Full: the smallest counter goes to the new key, which inherits its count as error.
    const min = this.heap[0] as Counter<V>;
    this.index.delete(min.key);
    this.evictions += 1;
    const c: Counter<V> = { key, count: min.count + weight, error: min.count, value: this.fresh(key) };
    this.heap[0] = c;
    this.index.set(key, 0);
    this.down(0);
    return c;
  }

  /** True once a key was evicted: counts are estimates from then on. */
  get approximate(): boolean {
    return this.evictions > 0;
  }

  /**
   * How far off a count may be (0 while exact): the smallest count. Errors are inherited smallest
   * counts and the smallest count never falls, so each counter's error is at most this, and a key
   * that is not monitored occurred at most this often.
   */
  get errorBound(): number {
    return this.approximate ? (this.heap[0] as Counter<V>).count : 0;
  }

  /** The monitored counters, in no particular order. */
  counters(): readonly Counter<V>[] {
    return this.heap;
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as Counter<V>;
    const b = this.heap[j] as Counter<V>;
    this.heap[i] = b;
    this.heap[j] = a;
    this.index.set(b.key, i);
    this.index.set(a.key, j);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.heap[parent] as Counter<V>).count <= (this.heap[i] as Counter<V>).count) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && (this.heap[l] as Counter<V>).count < (this.heap[min] as Counter<V>).count) min = l;
      if (r < n && (this.heap[r] as Counter<V>).count < (this.heap[min] as Counter<V>).count) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }
}
