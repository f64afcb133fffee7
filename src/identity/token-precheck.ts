import { findDuplicateKey } from './json-duplicates.js';
import { fail, type VerifyOutcome } from './reason-codes.js';

/** Tokens above this size are rejected before any parsing (RFC 8725 advice; bounds work per request). */
export const MAX_TOKEN_BYTES = 8 * 1024;

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;
const WHITESPACE_RE = /\s/;
/** Header parameters that carry or point at a key: trusting them lets the sender pick the key. */
const EMBEDDED_KEY_PARAMS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The decoded, not yet verified parts of a compact JWS. */
export interface RawToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

type Decoded = { ok: true; value: unknown; text: string } | { ok: false };

function decodeSegment(segment: string): Decoded {
  // Length 1 mod 4 can never be valid base64; Buffer would silently drop the extra char.
  if (segment.length % 4 === 1) return { ok: false };
  try {
    const text = utf8.decode(Buffer.from(segment, 'base64url'));
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch {
    return { ok: false };
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Structural checks done before any cryptography, each with its own reason: size, whitespace,
 * segment count, base64url alphabet, JSON object header and payload without duplicate names,
 * `alg` present and not `none` (any casing), no embedded keys, no `crit`, a signature present.
 * Cheap by design: a flood of garbage tokens never reaches key lookup or WebCrypto.
 */
export function precheckToken(token: string): { ok: true; raw: RawToken } | (VerifyOutcome & { ok: false }) {
  if (token.length > MAX_TOKEN_BYTES) return fail('token_too_large');
  if (WHITESPACE_RE.test(token)) return fail('token_whitespace');
  const parts = token.split('.');
  if (parts.length !== 3) return fail('token_segments');
  const [h, p, s] = parts as [string, string, string];
  if (h === '' || p === '') return fail('token_segments');
  // Standard base64 (+ / =) is not JWS compact serialization; do not be lenient about it.
  if (!BASE64URL_RE.test(h) || !BASE64URL_RE.test(p) || !BASE64URL_RE.test(s)) return fail('token_encoding');
  const header = checkHeader(h);
  if (!header.ok) return header;
  if (s === '') return fail('signature_missing');
  const payload = decodeSegment(p);
  if (!payload.ok) return fail('payload_invalid');
  if (!isPlainObject(payload.value)) return fail('payload_not_object');
  const dup = findDuplicateKey(payload.text);
  if (dup !== undefined) return fail('duplicate_claim');
  return { ok: true, raw: { header: header.value, payload: payload.value } };
}

function checkHeader(segment: string): { ok: true; value: Record<string, unknown> } | (VerifyOutcome & { ok: false }) {
  const decoded = decodeSegment(segment);
  if (!decoded.ok || !isPlainObject(decoded.value)) return fail('header_invalid');
  if (findDuplicateKey(decoded.text) !== undefined) return fail('duplicate_header_param');
  const header = decoded.value;
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg === '') return fail('header_invalid');
  // `none` in any casing: some libraries compared case-insensitively and accepted "None".
  if (alg.toLowerCase() === 'none') return fail('alg_none');
  if (EMBEDDED_KEY_PARAMS.some((name) => Object.hasOwn(header, name))) return fail('header_embedded_key');
  // We implement no critical extensions, so any `crit` (including b64=false) is unsupported.
  if (Object.hasOwn(header, 'crit')) return fail('crit_unsupported');
  if (header['kid'] !== undefined && typeof header['kid'] !== 'string') return fail('header_invalid');
  if (header['typ'] !== undefined && typeof header['typ'] !== 'string') return fail('header_invalid');
  return { ok: true, value: header };
}
