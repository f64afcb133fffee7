import { z } from 'zod';

/** A duration: milliseconds as a number, or a string like `500ms`, `30s`, `5m`, `2h`, `90d`. */
export const DurationSchema = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d{1,12}(ms|s|m|h|d)$/, 'expected a duration such as 500ms, 30s, 5m, 2h or 7d'),
]);
export type Duration = z.infer<typeof DurationSchema>;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Converts a validated Duration to milliseconds. */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new TypeError(`invalid duration ${d}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] ?? 1);
}
