import { isUtf8 } from 'node:buffer';
import { hash as oneShotHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { escapeUnsafeJson } from './escape-unsafe.js';
import { flat, jsonString } from './json-text.js';

/** Schema version of every record (`v`). Bumped only on an incompatible change of a field. */
export const AUDIT_SCHEMA_VERSION = 1;
/** `prev` of the very first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);
/** Fields the sink owns; a producer field with one of these names is overwritten. */
export const RESERVED_FIELDS: readonly string[] = ['v', 'seq', 'ts', 'prev', 'hash'];
const RESERVED = new Set(RESERVED_FIELDS);
const VERSION_TEXT = String(AUDIT_SCHEMA_VERSION);

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

const quotedKeys = new Map<string, string>();

/**
 * Canonical text of one top-level field value, with unsafe characters already escaped
 * (escapeUnsafeJson); undefined omits the field. Escaping per string rather than per line
 * keeps the scans short: these characters can only occur inside strings.
 */
export type FieldSerializer = (value: unknown, key: string) => string | undefined;

/** Plain canonical JSON (what the verifier uses on parsed records). */
export const canonicalField: FieldSerializer = (value) => {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  // Primitives are the common case: skip the generic canonicaliser's dispatch.
  if (typeof value === 'string') return escapeUnsafeJson(JSON.stringify(value));
  return escapeUnsafeJson(canonicalJson(value));
};

/** `"key":` with the key quoted; keys repeat, so the quoted form is cached (bounded). */
function quoted(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = flat(`${escapeUnsafeJson(JSON.stringify(key))}:`);
    if (quotedKeys.size < 4096) quotedKeys.set(key, q);
  }
  return q;
}

/** One key of a record in canonical order, with its quoted form and where its text comes from. */
interface PlanStep {
  readonly key: string;
  readonly quoted: string;
  /** `,"key":`: one concatenation per field instead of three. */
  readonly joined: string;
  readonly source: 'v' | 'seq' | 'ts' | 'prev' | 'field';
  /** Keys sorting before `hash` go left of it in the written line. */
  readonly beforeHash: boolean;
}

/** The canonical key order for one set of producer keys (in the order the producer wrote them). */
interface RecordPlan {
  readonly fieldKeys: readonly string[];
  readonly steps: readonly PlanStep[];
}

const MAX_TYPES = 256;
const MAX_PLANS_PER_TYPE = 16;
const plansByType = new Map<unknown, RecordPlan[]>();

function makePlan(fieldKeys: readonly string[]): RecordPlan {
  const keys = ['v', 'seq', 'ts', 'prev'];
  for (const k of fieldKeys) if (!RESERVED.has(k)) keys.push(k);
  keys.sort();
  const steps = keys.map((key): PlanStep => ({
    key,
    quoted: quoted(key),
    joined: flat(`,${quoted(key)}`),
    source: key === 'v' || key === 'seq' || key === 'ts' || key === 'prev' ? key : 'field',
    beforeHash: key < 'hash',
  }));
  return { fieldKeys, steps };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The plan for these fields. A producer writes the same keys in the same order for every record
 * of a type, so the sort and the key quoting are done once per shape, not once per record.
 * Bounded: unknown types or shapes beyond the bounds get a fresh, uncached plan.
 */
function planFor(fields: Readonly<Record<string, unknown>>): RecordPlan {
  const fieldKeys = Object.keys(fields);
  const type = fields.type;
  let plans = plansByType.get(type);
  if (plans !== undefined) {
    for (const plan of plans) if (sameKeys(plan.fieldKeys, fieldKeys)) return plan;
  }
  const plan = makePlan(fieldKeys);
  if (plans === undefined && plansByType.size < MAX_TYPES) plansByType.set(type, (plans = []));
  if (plans !== undefined && plans.length < MAX_PLANS_PER_TYPE) plans.push(plan);
  return plan;
}

/**
 * Builds the written line of one record. The hash covers `prev || body`, where body is the
 * escaped (see FieldSerializer) RFC 8785 canonical JSON of the record without `hash`; the written line is the
 * canonical JSON of the full record (hash included), so a verifier recomputes both from the
 * parsed line and also checks that the bytes are exactly canonical. One canonicalisation of the
 * fields, one hash, string joins for the rest.
 */
export function encodeRecord(
  fields: Readonly<Record<string, unknown>>,
  pos: ChainPosition,
  serialize: FieldSerializer = canonicalField,
): EncodedRecord {
  return encodeWithPlan(fields, pos, serialize, planFor(fields));
}

function encodeWithPlan(fields: Readonly<Record<string, unknown>>, pos: ChainPosition, serialize: FieldSerializer, plan: RecordPlan): EncodedRecord {
  // Direct concatenation: this loop runs once per record on the write-ahead path.
  let left = '';
  let right = '';
  for (const step of plan.steps) {
    let text: string | undefined;
    switch (step.source) {
      case 'v':
        text = VERSION_TEXT;
        break;
      case 'seq':
        text = String(pos.seq);
        break;
      case 'ts':
        text = timestampText(pos.ts);
        break;
      case 'prev':
        text = `"${pos.prev}"`;
        break;
      default:
        text = serialize(fields[step.key], step.key);
    }
    if (text === undefined) continue;
    if (step.beforeHash) left = left === '' ? step.quoted + text : left + step.joined + text;
    else right = right === '' ? step.quoted + text : right + step.joined + text;
  }
  return seal(pos.prev, left, right);
}

/**
 * Hashes `prev || {left,right}` and writes `{left,"hash":…,right}`. The pieces form a tree of
 * concatenations that V8 copies out once per use; flattening the hashed text once and cutting
 * the line from it (slices share its memory) copies the record's text once instead of twice.
 */
function seal(prev: string, left: string, right: string): EncodedRecord {
  const sep = left && right ? ',' : '';
  const hashed = `${prev}{${left}${sep}${right}}`;
  flat(hashed);
  // One-shot crypto.hash (Node ≥ 20.12) costs a third of createHash(): this runs once per record.
  const hash = oneShotHash('sha256', hashed, 'hex');
  const open = prev.length;
  const afterLeft = open + 1 + left.length;
  const head = left ? `${hashed.slice(open, afterLeft)},` : '{';
  const tail = right ? `,${hashed.slice(afterLeft + sep.length)}` : '}';
  return { line: `${head}"hash":"${hash}"${tail}\n`, hash };
}

let lastTs = '';
let lastTsText = '""';

/** The `ts` text; records of one batch (and of one millisecond) share it. */
function timestampText(ts: string): string {
  if (ts !== lastTs) {
    lastTsText = jsonString(ts);
    lastTs = ts;
  }
  return lastTsText;
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

/**
 * decodeRecord of a line's bytes (without newline). Bytes that are not valid UTF-8 are never what
 * the writer wrote, but decode to U+FFFD as other bytes do, so the text alone can still match its
 * hash: such a record is `bad_hash` (as verify has it, line-stream.ts).
 */
export function decodeRecordBytes(bytes: Buffer): DecodeResult {
  const text = bytes.toString('utf8');
  const d = decodeRecord(text);
  return d.kind === 'ok' && text.includes('\uFFFD') && !isUtf8(bytes) ? { kind: 'bad_hash', record: d.record } : d;
}

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
  // An uncached plan: a file being verified may be hostile, with endless distinct key sets that
  // would otherwise fill the writer's plan cache.
  const record = r as AuditRecord;
  let again: EncodedRecord;
  try {
    again = encodeWithPlan(rest, { seq: r.seq as number, ts: r.ts, prev: r.prev }, canonicalField, makePlan(Object.keys(rest)));
  } catch {
    // Nesting too deep to canonicalise (a stack overflow): the writer cuts values at depth 32,
    // so this line is not what it wrote. A modified record, not a crash of the verifier.
    return { kind: 'bad_hash', record };
  }
  if (again.hash !== r.hash || again.line !== `${raw}\n`) return { kind: 'bad_hash', record };
  return { kind: 'ok', record };
}
