import { MAX_DEPTH, REDACTED, keyMatcher, stringScrubber, type RedactRules } from './redact-rules.js';
import { jsonScalar, specialObject } from './redactor.js';
import { escapeUnsafeJson } from './escape-unsafe.js';

const REDACTED_JSON = JSON.stringify(REDACTED);
const TRUNCATED_JSON = '"[TRUNCATED]"';

/**
 * The sink's hot path: redacts and canonicalises (RFC 8785) in one walk, producing exactly
 * `canonicalJson(createRedactor(rules)(value).redacted)` without building the redacted copy,
 * with unsafe characters escaped as `\uXXXX` (escapeUnsafeJson) inside every string.
 * `serialize(value, key)` returns the canonical text of a top-level field (undefined = omit).
 */
export function createCanonicalRedactor(rules: RedactRules = {}): (value: unknown, key: string) => string | undefined {
  const hit = keyMatcher(rules.paths ?? []);
  const scrub = stringScrubber(rules.patterns ?? []);
  const path: string[] = [];
  const seen = new Set<object>();

  const field = (key: string, v: unknown, depth: number): string | undefined => {
    path.push(key);
    const text = hit(path) ? (v === undefined ? undefined : REDACTED_JSON) : canon(v, depth);
    path.pop();
    return text;
  };

  const object = (value: object, depth: number): string => {
    const keys = Object.keys(value).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const text = field(k, (value as Record<string, unknown>)[k], depth + 1);
      if (text !== undefined) parts.push(`${escapeUnsafeJson(JSON.stringify(k))}:${text}`);
    }
    return `{${parts.join(',')}}`;
  };

  const canon = (value: unknown, depth: number): string | undefined => {
    if (typeof value === 'string') return escapeUnsafeJson(JSON.stringify(scrub(value)));
    if (value === null || typeof value !== 'object') {
      const s = jsonScalar(value);
      return s === undefined ? undefined : JSON.stringify(s);
    }
    if (depth >= MAX_DEPTH || seen.has(value)) return TRUNCATED_JSON;
    const special = specialObject(value);
    if (special !== undefined) return JSON.stringify(special);
    seen.add(value);
    let out: string;
    if (Array.isArray(value)) out = `[${value.map((v) => canon(v, depth + 1) ?? 'null').join(',')}]`;
    else if (value instanceof Error) out = object({ message: value.message, name: value.name }, depth);
    else out = object(value, depth);
    seen.delete(value);
    return out;
  };

  return (value, key) => {
    // Fast path for the common top-level scalar field when no policy paths are configured.
    if (hit.keyOnly && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      if (hit.keyOnly(key)) return REDACTED_JSON;
      return typeof value === 'string' ? escapeUnsafeJson(JSON.stringify(scrub(value))) : (JSON.stringify(jsonScalar(value)) as string);
    }
    seen.clear();
    // Top-level fields sit at depth 1, as they do when createRedactor walks a whole event.
    return field(key, value, 1);
  };
}
