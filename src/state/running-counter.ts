/**
 * One sliding-window counter of a group (MemoryStateStore.addToWindows): its amounts per bucket
 * plus their running sum, so a call does not re-add every bucket of the window (up to 20 per
 * counter, several counters per call).
 *
 * The running sum is used only while it is exactly what re-adding the buckets gives: every
 * amount a non-negative safe integer (integer sums do not depend on their order) and buckets
 * inserted in ascending order (so the expired ones are at the front). Anything else (a fraction,
 * a negative amount, a call from the past opening an older bucket) turns the counter to the
 * plain walk over all its buckets, for good, which is exactly the single-counter arithmetic.
 */
export interface RunningCounter {
  /** Bucket index (floor(now / bucketMs)) → amount, in insertion order. */
  readonly buckets: Map<number, number>;
  /** Sum of all amounts in `buckets` (meaningful while `exact`). */
  sum: number;
  /** Highest bucket index inserted so far. */
  last: number;
  exact: boolean;
}

export function newRunningCounter(): RunningCounter {
  return { buckets: new Map(), sum: 0, last: -Infinity, exact: true };
}

/**
 * Drops buckets older than the `windowBuckets` ending at `current`, adds `amount` to the current
 * one and returns the window's sum: the same number the plain walk returns.
 */
export function addToRunning(c: RunningCounter, amount: number, current: number, windowBuckets: number): number {
  const oldest = current - windowBuckets + 1;
  if (c.exact && (amount < 0 || !Number.isSafeInteger(amount) || !Number.isSafeInteger(c.sum + amount) || (amount !== 0 && current < c.last && !c.buckets.has(current)))) {
    c.exact = false;
  }
  if (!c.exact) return plainWalk(c.buckets, amount, current, oldest);
  for (const [index, value] of c.buckets) {
    // Ascending: the first live bucket ends the expired ones.
    if (index >= oldest) break;
    c.buckets.delete(index);
    c.sum -= value;
  }
  if (amount !== 0) {
    c.buckets.set(current, (c.buckets.get(current) ?? 0) + amount);
    c.sum += amount;
    if (current > c.last) c.last = current;
  }
  return c.sum;
}

/** The single-counter arithmetic: drop expired buckets, add the live ones in order, then the amount. */
export function plainWalk(buckets: Map<number, number>, amount: number, current: number, oldest: number): number {
  let sum = 0;
  for (const [index, value] of buckets) {
    if (index < oldest) buckets.delete(index);
    else sum += value;
  }
  if (amount !== 0) {
    buckets.set(current, (buckets.get(current) ?? 0) + amount);
    sum += amount;
  }
  return sum;
}

/** True when a counter has no bucket inside the window ending at `oldest`. */
export function isEmptyFrom(c: RunningCounter, oldest: number): boolean {
  for (const index of c.buckets.keys()) if (index >= oldest) return false;
  return true;
}

/** What a counter holds in the window ending at `oldest` (buckets before it left out, none dropped). */
export function windowSum(c: RunningCounter, oldest: number): number {
  let sum = 0;
  for (const [index, value] of c.buckets) if (index >= oldest) sum += value;
  return sum;
}
