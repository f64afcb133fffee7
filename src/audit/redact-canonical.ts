import { MAX_DEPTH, REDACTED, keyMatcher, stringScrubber, type RedactRules } from './redact-rules.js';
import { jsonScalar, specialObject } from './redactor.js';
import { escapeUnsafeJson } from './escape-unsafe.js';
import { isSealedForAudit } from './sealed-value.js';
import { PreEncodedField } from './pre-encoded.js';

const REDACTED_JSON = JSON.stringify(REDACTED);
const TRUNCATED_JSON = '"[TRUNCATED]"';
const CACHE_MAX = 4096;
const CACHED_VALUE_MAX_LENGTH = 64;

/**
 * The sink's hot path: redacts and canonicalises (RFC 8785) in one walk, producing exactly
 * `canonicalJson(createRedactor(rules)(value).redacted)` without building the redacted copy,
 * with unsafe characters escaped as `\uXXXX` (escapeUnsafeJson) inside every string.
 * `serialize(value, key)` returns the canonical text of a top-level field (undefined = omit).
 */
export function createCanonicalRedactor(rules: RedactRules = {}): (value: unknown, key: string) => string | undefined {
  const hit = keyMatcher(rules.paths ?? []);
  const scrub = stringScrubber(rules.patterns ?? []);
  // Keys and short values (tool names, reason codes, rule ids) repeat in every record; the text
  // of a string depends only on the string (scrub is pure), so bounded caches skip the scans.
  const keyText = new Map<string, string>();
  const valueText = new Map<string, string>();
  const quotedKey = (k: string): string => {
    let q = keyText.get(k);
    if (q === undefined) {
      q = `${escapeUnsafeJson(JSON.stringify(k))}:`;
      if (keyText.size < CACHE_MAX) keyText.set(k, q);
    }
    return q;
  };
  const stringText = (s: string): string => {
    if (s.length > CACHED_VALUE_MAX_LENGTH) return escapeUnsafeJson(JSON.stringify(scrub(s)));
    let t = valueText.get(s);
    if (t === undefined) {
      t = escapeUnsafeJson(JSON.stringify(scrub(s)));
      if (valueText.size >= CACHE_MAX) valueText.clear();
      valueText.set(s, t);
    }
    return t;
  };
  const path: string[] = [];
  const seen = new Set<object>();

  const keyOnly = hit.keyOnly;
  const field = (key: string, v: unknown, depth: number): string | undefined => {
    // Without policy paths only the key name decides: no path to build.
    if (keyOnly) return keyOnly(key) ? (v === undefined ? undefined : REDACTED_JSON) : canon(v, depth);
    path.push(key);
    const text = hit(path) ? (v === undefined ? undefined : REDACTED_JSON) : canon(v, depth);
    path.pop();
    return text;
  };

  const object = (value: object, depth: number): string => {
    const keys = Object.keys(value).sort();
    let out = '';
    for (const k of keys) {
      const text = field(k, (value as Record<string, unknown>)[k], depth + 1);
      if (text !== undefined) out = out === '' ? quotedKey(k) + text : `${out},${quotedKey(k)}${text}`;
    }
    return `{${out}}`;
  };

  // An index loop, not map/join: map skips holes and join writes them as nothing (`[1,,3]`, not
  // JSON); a hole reads as undefined and is written `null`, as canonicalJson writes it.
  const array = (value: readonly unknown[], depth: number): string => {
    let out = '';
    for (let i = 0; i < value.length; i++) {
      const text = canon(value[i], depth + 1) ?? 'null';
      out = i === 0 ? text : `${out},${text}`;
    }
    return `[${out}]`;
  };

  const canon = (value: unknown, depth: number): string | undefined => {
    if (typeof value === 'string') return stringText(value);
    if (value === null || typeof value !== 'object') {
      const s = jsonScalar(value);
      return s === undefined ? undefined : JSON.stringify(s);
    }
    if (depth >= MAX_DEPTH || seen.has(value)) return TRUNCATED_JSON;
    const special = specialObject(value);
    if (special !== undefined) return JSON.stringify(special);
    seen.add(value);
    let out: string;
    if (Array.isArray(value)) out = array(value, depth);
    else if (value instanceof Error) out = object({ message: value.message, name: value.name }, depth);
    else out = object(value, depth);
    seen.delete(value);
    return out;
  };

  // Sealed values are deeply frozen, and these rules never change: their text is computed once
  // per (value, field name). The principal summary of a session repeats in most call records.
  const sealedText = new WeakMap<object, { readonly key: string; readonly text: string | undefined }>();

  return (raw, key) => {
    // A value encoded ahead for some sink: this walk writes its redacted value.
    const value = raw instanceof PreEncodedField ? raw.value : raw;
    // Fast path for the common top-level scalar field when no policy paths are configured.
    if (hit.keyOnly && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      if (hit.keyOnly(key)) return REDACTED_JSON;
      return typeof value === 'string' ? stringText(value) : (JSON.stringify(jsonScalar(value)) as string);
    }
    const sealed = value !== null && typeof value === 'object' && isSealedForAudit(value);
    if (sealed) {
      const cached = sealedText.get(value);
      if (cached !== undefined && cached.key === key) return cached.text;
    }
    seen.clear();
    // A throw inside an earlier walk (a getter) must not leave keys behind: paths are anchored at the root.
    if (path.length !== 0) path.length = 0;
    // Top-level fields sit at depth 1, as they do when createRedactor walks a whole event.
    const text = field(key, value, 1);
    if (sealed) sealedText.set(value, { key, text });
    return text;
  };
}
