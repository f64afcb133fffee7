import { z } from 'zod';

const UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parses `90`, `30s`, `15m`, `1h`, `7d`, `500ms` into seconds. Returns undefined when the text is
 * not a duration, so callers can name the bad key themselves.
 */
export function parseDurationSeconds(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  const match = DURATION_RE.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}

/** A config duration: seconds as a number, or a string such as `30s`, `15m`, `1h`. Parsed to seconds. */
export const DurationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid duration '${String(value)}' (use e.g. 30s, 15m, 1h)` });
    return z.NEVER;
  }
  return seconds;
});
