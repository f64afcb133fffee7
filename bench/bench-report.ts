/** What every `bench/<area>-bench.ts` returns; `bench/run.ts` prints it. */
export interface BenchReport {
  readonly name: string;
  readonly lines: string[];
  /** Whether the target was met. */
  readonly ok: boolean;
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
