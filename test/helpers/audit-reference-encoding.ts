import type { AuditEvent } from '../../src/audit/audit-sink.js';
import { escapeUnsafeJson } from '../../src/audit/escape-unsafe.js';
import { AUDIT_SCHEMA_VERSION, RESERVED_FIELDS, type ChainPosition, type EncodedRecord, type FieldSerializer } from '../../src/audit/record-codec.js';
import { createCanonicalRedactor } from '../../src/audit/redact-canonical.js';
import type { RedactRules } from '../../src/audit/redact-rules.js';
import { withDigests } from '../../src/audit/redactor.js';
import { sha256Hex } from '../../src/core/canonical-json.js';

/**
 * The generic encoding of an audit record, written as plainly as possible and sharing nothing
 * with the sink's encoder but the generic field walk (createCanonicalRedactor, the reference):
 * every field serialised, members sorted, joined, hashed as `prev || body`, and the line with
 * `hash` sorted in. The fast path must produce exactly these bytes.
 */
export type FieldTexts = readonly (readonly [key: string, text: string])[];

/** The generic serializer for these rules (one per sink: its caches must not be shared with the fast path). */
export function genericSerializer(rules: RedactRules): FieldSerializer {
  return createCanonicalRedactor(rules);
}

/** Producer fields as the generic walk writes them, after the sink adds digests (chain fields left out). */
export function genericFieldTexts(event: AuditEvent, generic: FieldSerializer): FieldTexts {
  const fields = withDigests(event) as Readonly<Record<string, unknown>>;
  const texts: [string, string][] = [];
  for (const key of Object.keys(fields)) {
    if (RESERVED_FIELDS.includes(key)) continue;
    const text = generic(fields[key], key);
    if (text !== undefined) texts.push([key, text]);
  }
  return texts;
}

const byKey = (a: readonly [string, string], b: readonly [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const members = (texts: FieldTexts): string =>
  [...texts].sort(byKey).map(([k, t]) => `${escapeUnsafeJson(JSON.stringify(k))}:${t}`).join(',');

/** Line and hash of a record whose producer fields have these texts, at this chain position. */
export function assembleReference(texts: FieldTexts, pos: ChainPosition): EncodedRecord {
  const chain: [string, string][] = [
    ['v', String(AUDIT_SCHEMA_VERSION)],
    ['seq', String(pos.seq)],
    ['ts', escapeUnsafeJson(JSON.stringify(pos.ts))],
    ['prev', JSON.stringify(pos.prev)],
  ];
  const body = `{${members([...texts, ...chain])}}`;
  const hash = sha256Hex(pos.prev + body);
  return { line: `{${members([...texts, ...chain, ['hash', JSON.stringify(hash)]])}}\n`, hash };
}

/** The generic encoding of `event` at `pos`. */
export function referenceRecord(event: AuditEvent, pos: ChainPosition, generic: FieldSerializer): EncodedRecord {
  return assembleReference(genericFieldTexts(event, generic), pos);
}
