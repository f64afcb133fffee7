import { digestOf } from '../core/canonical-json.js';
import { MAX_DEPTH, REDACTED, keyMatcher, stringScrubber, type RedactRules } from './redact-rules.js';

export { REDACTED, BUILTIN_VALUE_PATTERNS, type RedactRules } from './redact-rules.js';

export interface RedactOutcome {
  readonly redacted: unknown;
  /** `sha256:<hex>` of the canonical JSON of the full, unredacted value. */
  readonly digest: string;
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // `__proto__` in data is a plain key: define it, never assign it (assignment sets the prototype).
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Turns odd scalars into JSON data (no throws): non-finite → null, bigint → string. */
export function jsonScalar(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value;
}

/** Objects that are not plain data, as JSON values; undefined for plain objects and arrays. */
export function specialObject(value: object): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  return undefined;
}

/**
 * Creates a redactor. Built-in defaults are always applied (sensitive key names, credential-like
 * values); `rules.paths` adds key paths (`password`, `card.number`, `*.secret`, `**.token`) and
 * `rules.patterns` adds regexes applied to every string value. The result is plain JSON data,
 * safe against `__proto__` keys and cycles, and carries the digest of the full value so two
 * records can be compared without revealing content.
 */
export function createRedactor(rules: RedactRules = {}): (value: unknown) => RedactOutcome {
  const hit = keyMatcher(rules.paths ?? []);
  const scrub = stringScrubber(rules.patterns ?? []);
  const path: string[] = [];
  const walk = (value: unknown, depth: number, seen: Set<object>): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (value === null || typeof value !== 'object') return jsonScalar(value);
    if (depth >= MAX_DEPTH || seen.has(value)) return '[TRUNCATED]';
    const special = specialObject(value);
    if (special !== undefined) return special;
    seen.add(value);
    let out: unknown;
    if (Array.isArray(value)) out = value.map((v) => walk(v, depth + 1, seen) ?? null);
    else if (value instanceof Error) out = { name: value.name, message: scrub(value.message) };
    else {
      const obj: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key];
        path.push(key);
        const inner = hit(path) ? (v === undefined ? undefined : REDACTED) : walk(v, depth + 1, seen);
        path.pop();
        if (inner !== undefined) setOwn(obj, key, inner);
      }
      out = obj;
    }
    seen.delete(value);
    return out;
  };
  return (value: unknown): RedactOutcome => {
    const redacted = walk(value, 0, new Set());
    let digest: string | undefined;
    return {
      redacted,
      // Lazy: computing it costs a second canonicalisation, needed only for args and results.
      get digest(): string {
        return (digest ??= fullDigest(value));
      },
    };
  };
}

/** Sanitises without redacting, for digests of values canonicalJson cannot take directly. */
function plain(value: unknown, depth = 0, seen = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object') return jsonScalar(value);
  if (depth >= MAX_DEPTH || seen.has(value)) return '[TRUNCATED]';
  const special = specialObject(value);
  if (special !== undefined) return special;
  seen.add(value);
  const out = Array.isArray(value)
    ? value.map((v) => plain(v, depth + 1, seen) ?? null)
    : Object.fromEntries(Object.keys(value).map((k) => [k, plain((value as Record<string, unknown>)[k], depth + 1, seen)]));
  seen.delete(value);
  return out;
}

/** Digest of the full value; odd values (NaN, bigint, cycles) are digested in sanitised form. */
export function fullDigest(value: unknown): string {
  try {
    return digestOf(value);
  } catch {
    return digestOf(plain(value));
  }
}

/**
 * Adds `argsDigest` / `resultDigest` (of the full, unredacted values) to an event that carries
 * `args` / `result`, unless the producer set them. Other events are returned as they are.
 */
export function withDigests<T extends Readonly<Record<string, unknown>>>(event: T): T {
  const needArgs = event.args !== undefined && event.argsDigest === undefined;
  const needResult = event.result !== undefined && event.resultDigest === undefined;
  if (!needArgs && !needResult) return event;
  const out: Record<string, unknown> = { ...event };
  if (needArgs) out.argsDigest = fullDigest(event.args);
  if (needResult) out.resultDigest = fullDigest(event.result);
  return out as T;
}
