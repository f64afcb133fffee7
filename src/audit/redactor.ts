import { digestOf } from '../core/canonical-json.js';

export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 32;

/**
 * Keys whose values are never written, whatever the policy says. Matched on the key lowercased
 * with `-`, `_` and spaces removed, by suffix: `apiKey`, `x-api-key`, `db_password`, `idToken` (but not `maxTokens` or `tokenId`).
 */
const SENSITIVE_KEY =
  /(password|passwd|passphrase|secret|token|apikey|authorization|cookie|cookies|privatekey|credential|credentials|accesskey|sessionkey|clientsecret)$/;

/** Values that look like credentials, wherever they appear in a string. */
export const BUILTIN_VALUE_PATTERNS: readonly string[] = [
  // JWT / JWS compact serialisation
  String.raw`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`,
  // HTTP bearer / basic credentials
  String.raw`\b(?:[Bb]earer|[Bb]asic)\s+[A-Za-z0-9._~+/-]{8,}=*`,
  // AWS access key ids
  String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
  // PEM private keys (terminated or cut off)
  String.raw`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[^]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`,
  // GitHub, Slack, OpenAI-style and Stripe-style tokens
  String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`,
  String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`,
  String.raw`\b(?:sk|rk)[-_](?:live_|test_)?[A-Za-z0-9_-]{20,}`,
  // credentials inside URLs: scheme://user:pass@host
  String.raw`(?<=://)[^/\s:@]+:[^/\s@]+(?=@)`,
];

export interface RedactRules {
  readonly paths?: readonly string[];
  readonly patterns?: readonly string[];
}

export interface RedactOutcome {
  readonly redacted: unknown;
  /** `sha256:<hex>` of the canonical JSON of the full, unredacted value. */
  readonly digest: string;
}

type PathPattern = readonly string[];

function compilePaths(paths: readonly string[]): PathPattern[] {
  // A bare key (`password`) matches at any depth; dotted paths are anchored at the root.
  return paths.map((p) => (p.includes('.') ? p.split('.') : ['**', p]));
}

function matchPath(pattern: PathPattern, path: readonly string[], pi = 0, ki = 0): boolean {
  if (pi === pattern.length) return ki === path.length;
  const seg = pattern[pi];
  if (seg === '**') {
    for (let k = ki; k <= path.length; k++) if (matchPath(pattern, path, pi + 1, k)) return true;
    return false;
  }
  if (ki === path.length) return false;
  return (seg === '*' || seg === path[ki]) && matchPath(pattern, path, pi + 1, ki + 1);
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // `__proto__` in data is a plain key: define it, never assign it (assignment sets the prototype).
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Turns anything a producer may pass into plain JSON data (no throws on odd values). */
function scalar(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value;
}

/**
 * Creates a redactor. Built-in defaults are always applied (sensitive key names, credential-like
 * values); `rules.paths` adds key paths (`password`, `card.number`, `*.secret`, `**.token`) and
 * `rules.patterns` adds regexes applied to every string value. The result is plain JSON data,
 * safe against `__proto__` keys and cycles, and carries the digest of the full value so two
 * records can be compared without revealing content.
 */
export function createRedactor(rules: RedactRules = {}): (value: unknown) => RedactOutcome {
  const paths = compilePaths(rules.paths ?? []);
  const sources = [...BUILTIN_VALUE_PATTERNS, ...(rules.patterns ?? [])].map((p) => `(?:${p})`).join('|');
  const valueRe = new RegExp(sources, 'g');
  const valueTest = new RegExp(sources);
  const path: string[] = [];

  const keyHit = (key: string): boolean => {
    if (SENSITIVE_KEY.test(key.toLowerCase().replace(/[-_ ]/g, ''))) return true;
    // `path` already ends with `key` (the walker pushes before asking).
    return paths.length > 0 && paths.some((p) => matchPath(p, path));
  };

  const walk = (value: unknown, depth: number, seen: Set<object>): unknown => {
    if (typeof value === 'string') return valueTest.test(value) ? value.replace(valueRe, REDACTED) : value;
    if (value === null || typeof value !== 'object') return scalar(value);
    if (depth >= MAX_DEPTH || seen.has(value)) return '[TRUNCATED]';
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    seen.add(value);
    let out: unknown;
    if (Array.isArray(value)) {
      out = value.map((v) => walk(v, depth + 1, seen) ?? null);
    } else if (value instanceof Error) {
      out = { name: value.name, message: walk(value.message, depth + 1, seen) };
    } else {
      const obj: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key];
        path.push(key);
        const inner = keyHit(key) ? (v === undefined ? undefined : REDACTED) : walk(v, depth + 1, seen);
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
    return { redacted, digest: fullDigest(value, walkPlain) };
  };
}

/** Sanitises without redacting, for digests of values canonicalJson cannot take directly. */
const walkPlain = (value: unknown, depth = 0, seen = new Set<object>()): unknown => {
  if (value === null || typeof value !== 'object') return scalar(value);
  if (depth >= MAX_DEPTH || seen.has(value)) return '[TRUNCATED]';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  seen.add(value);
  const out = Array.isArray(value)
    ? value.map((v) => walkPlain(v, depth + 1, seen) ?? null)
    : Object.fromEntries(Object.keys(value).map((k) => [k, walkPlain((value as Record<string, unknown>)[k], depth + 1, seen)]));
  seen.delete(value);
  return out;
};

function fullDigest(value: unknown, plain: (v: unknown) => unknown): string {
  try {
    return digestOf(value);
  } catch {
    // Non-finite numbers, bigints or cycles: digest the sanitised form instead of failing the record.
    return digestOf(plain(value));
  }
}
