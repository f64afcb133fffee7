import { canonicalJson, sha256Hex } from '../core/canonical-json.js';
import { escapeUnsafeJson } from './escape-unsafe.js';

/** Schema version of every record (`v`). Bumped only on an incompatible change of a field. */
export const AUDIT_SCHEMA_VERSION = 1;
/** `prev` of the very first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);
/** Fields the sink owns; a producer field with one of these names is overwritten. */
export const RESERVED_FIELDS: readonly string[] = ['v', 'seq', 'ts', 'prev', 'hash'];

export interface EncodedRecord {
  /** The exact bytes written, including the trailing newline. */
  readonly line: string;
  readonly hash: string;
}

export interface ChainPosition {
  readonly seq: number;
  readonly ts: string;
  readonly prev: string;
}

function part(key: string, value: unknown): string {
  return `${JSON.stringify(key)}:${canonicalJson(value)}`;
}

/**
 * Builds the written line of one record. The hash covers `prev || body`, where body is the
 * escaped RFC 8785 canonical JSON of the record without `hash`; the written line is the
 * canonical JSON of the full record (hash included), so a verifier recomputes both from the
 * parsed line and also checks that the bytes are exactly canonical. One canonicalisation of the
 * fields, one hash, string joins for the rest.
 */
export function encodeRecord(fields: Readonly<Record<string, unknown>>, pos: ChainPosition): EncodedRecord {
  const keys = Object.keys(fields).filter((k) => !RESERVED_FIELDS.includes(k));
  keys.push('v', 'seq', 'ts', 'prev');
  keys.sort();
  const before: string[] = [];
  const after: string[] = [];
  for (const k of keys) {
    const value = k === 'v' ? AUDIT_SCHEMA_VERSION : k === 'seq' ? pos.seq : k === 'ts' ? pos.ts : k === 'prev' ? pos.prev : fields[k];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    (k < 'hash' ? before : after).push(part(k, value));
  }
  const left = escapeUnsafeJson(before.join(','));
  const right = escapeUnsafeJson(after.join(','));
  const sep = left && right ? ',' : '';
  const body = `{${left}${sep}${right}}`;
  const hash = sha256Hex(pos.prev + body);
  const hashPart = `"hash":"${hash}"`;
  const line = `{${left}${left ? ',' : ''}${hashPart}${right ? ',' : ''}${right}}\n`;
  return { line, hash };
}

/** A parsed record as read back from the file. */
export interface AuditRecord {
  readonly v: number;
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly prev: string;
  readonly hash: string;
  readonly callId?: string;
  readonly sessionId?: string;
  readonly [field: string]: unknown;
}

export type DecodeResult =
  | { readonly kind: 'ok'; readonly record: AuditRecord }
  | { readonly kind: 'not_json' }
  | { readonly kind: 'not_record' }
  /** Parsed, but its hash or its bytes do not match what the writer would have produced. */
  | { readonly kind: 'bad_hash'; readonly record: AuditRecord };

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses one line (without newline) and checks it against its own hash and canonical bytes. */
export function decodeRecord(raw: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { kind: 'not_json' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'not_record' };
  const r = parsed as Record<string, unknown>;
  if (
    typeof r.v !== 'number' || !Number.isSafeInteger(r.seq) || (r.seq as number) < 1 || typeof r.ts !== 'string' ||
    typeof r.type !== 'string' || typeof r.prev !== 'string' || typeof r.hash !== 'string' ||
    !HEX64.test(r.prev) || !HEX64.test(r.hash)
  ) {
    return { kind: 'not_record' };
  }
  const rest: Record<string, unknown> = {};
  for (const k of Object.keys(r)) {
    if (k !== 'hash') Object.defineProperty(rest, k, { value: r[k], enumerable: true, writable: true, configurable: true });
  }
  const again = encodeRecord(rest, { seq: r.seq as number, ts: r.ts, prev: r.prev });
  const record = r as AuditRecord;
  if (again.hash !== r.hash || again.line !== `${raw}\n`) return { kind: 'bad_hash', record };
  return { kind: 'ok', record };
}
