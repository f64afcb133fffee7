import type { StateStore } from '../state/state-store.js';

/** Per-principal burst state: an EWMA of calls per active bucket plus the open bucket. */
export interface BurstState {
  readonly ewma: number;
  readonly samples: number;
  readonly bucket: number;
  readonly count: number;
}

/**
 * Pure step: counts one call at `now`. A finished bucket is folded into the EWMA; idle gaps are
 * skipped (not folded as zeros) so a principal that pauses does not look like a burst on return.
 */
export function stepBurst(prev: BurstState | undefined, now: number, bucketMs: number, alpha: number): BurstState {
  const bucket = Math.floor(now / bucketMs);
  if (!prev) return { ewma: 0, samples: 0, bucket, count: 1 };
  // A call from "the past" (clock skew between replicas) counts in the open bucket. The fields
  // are written out, not spread: this runs twice per call.
  if (bucket <= prev.bucket) return { ewma: prev.ewma, samples: prev.samples, bucket: prev.bucket, count: prev.count + 1 };
  const ewma = prev.samples === 0 ? prev.count : alpha * prev.count + (1 - alpha) * prev.ewma;
  return { ewma, samples: prev.samples + 1, bucket, count: 1 };
}

/** Reads, steps and writes the burst state of one principal. */
export async function countBurst(
  store: StateStore,
  key: string,
  now: number,
  bucketMs: number,
  alpha: number,
): Promise<BurstState> {
  const next = stepBurst(await store.get<BurstState>(key), now, bucketMs, alpha);
  // Forget a principal after 100 idle buckets; the LRU bounds the total anyway.
  await store.set(key, next, bucketMs * 100);
  return next;
}
