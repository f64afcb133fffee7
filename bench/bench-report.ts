/** One headline figure against its target, for the summary table of `npm run bench`. */
export interface BenchTarget {
  readonly figure: string;
  readonly target: string;
  readonly met: boolean;
}

/** What every `bench/<area>-bench.ts` returns; `bench/run.ts` prints it. */
export interface BenchReport {
  readonly name: string;
  readonly lines: string[];
  /** Whether every target was met. */
  readonly ok: boolean;
  /** The headline figures behind `ok`; a bench without them gets one summary row from `ok`. */
  readonly targets?: readonly BenchTarget[];
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
