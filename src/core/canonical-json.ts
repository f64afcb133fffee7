import { createHash, hash as oneShotHash } from 'node:crypto';

/**
 * RFC 8785 (JCS) canonical JSON: object keys sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript JSON.stringify renders them. Used wherever two parties
 * must hash the same value the same way (audit chain, approval binding, tool pins).
 * Own code rather than a dependency: the maintained package needs Node 22.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonicalJson: non-finite number');
    }
    if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint');
    // undefined / functions / symbols have no JSON form; callers drop them like JSON.stringify.
    return JSON.stringify(value) ?? 'null';
  }
  // String concatenation rather than map/join: this runs for every call's argument and result digest.
  if (Array.isArray(value)) {
    let out = '';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const text = canonicalJson(v === undefined ? null : v);
      out = i === 0 ? text : `${out},${text}`;
    }
    return `[${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    const member = `${JSON.stringify(k)}:${canonicalJson(v)}`;
    out = out === '' ? member : `${out},${member}`;
  }
  return `{${out}}`;
}

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  // One-shot crypto.hash (Node >= 20.12) for strings: a fraction of createHash()'s cost.
  return typeof data === 'string' ? oneShotHash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

/** `sha256:<hex>` digest of the canonical form of a JSON value. */
export function digestOf(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}
