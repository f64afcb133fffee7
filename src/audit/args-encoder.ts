import { canonicalJson, sha256Hex } from '../core/canonical-json.js';
import { flat, jsonString } from './json-text.js';
import { keyOrderCache, type KeyOrder } from './key-order.js';
import { PreEncodedField, rulesKey } from './pre-encoded.js';
import { MAX_DEPTH, REDACTED, keyMatcher, stringScrubber, type RedactRules } from './redact-rules.js';
import { createRedactor } from './redactor.js';

/** The field the text is computed for: the sink's rules may name it (`args.card`, or `args` itself). */
const FIELD = 'args';
const REDACTED_JSON = JSON.stringify(REDACTED);
const CACHE_MAX = 4096;
const CACHED_VALUE_MAX_LENGTH = 64;
/**
 * Containers deeper than this go the two-pass way: the engine truncates at MAX_DEPTH from the
 * arguments, the sink one level earlier (the field sits at depth 1); staying clear of both keeps
 * this walk free of truncation rules.
 */
const MAX_WALK_DEPTH = MAX_DEPTH - 3;

/** Thrown inside the walk for a value it does not handle; the caller takes the two-pass path. */
const BAIL = Symbol('bail');

export interface EncodedArgs {
  /** The value for the `args` field of `call.received`: the redacted arguments, with their audit text. */
  readonly field: unknown;
  /** `sha256:<hex>` of the canonical JSON of the full, unredacted arguments (fullDigest). */
  readonly digest: string;
}

interface Texts {
  /** Canonical JSON of the value (for the digest). */
  full: string;
  /** The sink's text of the engine-redacted value. */
  audit: string;
}

/** `"key":` as JSON.stringify writes it (canonicalJson's form, no unsafe-character escaping). */
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
function plainKeyText(k: string): string {
  return NEEDS_JSON_ESCAPE.test(k) ? `${JSON.stringify(k)}:` : `"${k}":`;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && !ArrayBuffer.isView(value);
}

/**
 * Walks tool-call arguments once for the guard: the digest of the full arguments, and the exact
 * text the audit sink would write for `engineRedact(args)` under the field `args` (the engine's
 * redaction by `engineRules`, then the sink's own by `sinkRules`, both applied as they are
 * applied separately: engine scrub then sink scrub on every string, engine key hits written as
 * the sink writes the string `[REDACTED]`). Before, the arguments were walked three times (the
 * redacted copy, the digest, the sink's walk of the copy).
 *
 * Plain JSON data only (what an agent's arguments are); anything else (non-finite numbers,
 * bigints, undefined, functions, Dates, buffers, class instances, cycles, deep nesting) is
 * encoded the two-pass way, so odd values are written exactly as before. The redacted copy is
 * still available (built lazily) for sinks without the matching rules.
 */
export function createArgsEncoder(engineRules: RedactRules, sinkRules: RedactRules): (args: unknown) => EncodedArgs {
  const redact = createRedactor(engineRules);
  const key = rulesKey(sinkRules);
  const eHit = keyMatcher(engineRules.paths ?? []);
  const sHit = keyMatcher(sinkRules.paths ?? []);
  const eScrub = stringScrubber(engineRules.patterns ?? []);
  const sScrub = stringScrubber(sinkRules.patterns ?? []);
  const redactedText = jsonString(sScrub(REDACTED));
  const texts = new Map<string, string>();
  const stringText = (s: string): string => {
    if (s.length > CACHED_VALUE_MAX_LENGTH) return jsonString(sScrub(eScrub(s)));
    let t = texts.get(s);
    if (t === undefined) {
      t = flat(jsonString(sScrub(eScrub(s))));
      if (texts.size >= CACHE_MAX) texts.clear();
      texts.set(s, t);
    }
    return t;
  };
  const sinkOnly = sHit.keyOnly;
  const orderOf = keyOrderCache((k) => `${jsonString(k)}:`, undefined);
  const ePath: string[] = [];
  const sPath: string[] = [FIELD];
  const ancestors: object[] = [];

  /** Fills `out` with both texts of `value`; throws BAIL for anything but plain data. */
  const walk = (value: unknown, depth: number, out: Texts): void => {
    switch (typeof value) {
      case 'string':
        out.full = JSON.stringify(value);
        out.audit = stringText(value);
        return;
      case 'number':
        if (!Number.isFinite(value)) throw BAIL;
        out.full = out.audit = String(value);
        return;
      case 'boolean':
        out.full = out.audit = value ? 'true' : 'false';
        return;
      case 'object':
        break;
      default:
        throw BAIL;
    }
    if (value === null) {
      out.full = out.audit = 'null';
      return;
    }
    if (depth >= MAX_WALK_DEPTH || ancestors.includes(value)) throw BAIL;
    ancestors.push(value);
    if (Array.isArray(value)) array(value, depth, out);
    else if (isPlainObject(value)) object(value as Record<string, unknown>, depth, out);
    else throw BAIL;
    ancestors.pop();
  };

  const array = (value: readonly unknown[], depth: number, out: Texts): void => {
    let full = '';
    let audit = '';
    const item: Texts = { full: '', audit: '' };
    for (let i = 0; i < value.length; i++) {
      walk(value[i], depth + 1, item);
      full = i === 0 ? item.full : `${full},${item.full}`;
      audit = i === 0 ? item.audit : `${audit},${item.audit}`;
    }
    out.full = `[${full}]`;
    out.audit = `[${audit}]`;
  };

  const object = (value: Record<string, unknown>, depth: number, out: Texts): void => {
    const order: KeyOrder = orderOf(Object.keys(value));
    let full = '';
    let audit = '';
    const member: Texts = { full: '', audit: '' };
    for (let i = 0; i < order.sorted.length; i++) {
      const k = order.sorted[i] as string;
      const v = value[k];
      ePath.push(k);
      sPath.push(k);
      const engineHit = eHit(ePath);
      const sinkHit = sinkOnly ? sinkOnly(k) : sHit(sPath);
      if (engineHit || sinkHit) {
        // Redacted: the digest still covers the whole value; plain data only, as everywhere here.
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') throw BAIL;
        member.full = fullText(v);
        member.audit = sinkHit ? REDACTED_JSON : redactedText;
      } else walk(v, depth + 1, member);
      ePath.pop();
      sPath.pop();
      const kf = plainKeyText(k);
      full = i === 0 ? kf + member.full : `${full},${kf}${member.full}`;
      audit = i === 0 ? (order.quoted[i] as string) + member.audit : audit + (order.joined[i] as string) + member.audit;
    }
    out.full = `{${full}}`;
    out.audit = `{${audit}}`;
  };

  /** canonicalJson of a redacted subtree (only the digest needs it); its faults take the two-pass way. */
  const fullText = (v: unknown): string => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !isPlainObject(v)) throw BAIL;
    try {
      return canonicalJson(v);
    } catch {
      throw BAIL;
    }
  };

  const twoPass = (args: unknown): EncodedArgs => {
    const r = redact(args);
    return { field: r.redacted, digest: r.digest };
  };

  // Whether the sink redacts the whole field: the rules never change, so decided once.
  const topHit = sinkOnly ? sinkOnly(FIELD) : sHit([FIELD]);

  return (args) => {
    if (typeof args !== 'object' || args === null) return twoPass(args);
    // Only a throw mid-walk (a getter) leaves these dirty; setting length is a runtime call, so only then.
    if (ePath.length !== 0) ePath.length = 0;
    if (sPath.length !== 1) sPath.length = 1;
    if (ancestors.length !== 0) ancestors.length = 0;
    const out: Texts = { full: '', audit: '' };
    try {
      walk(args, 0, out);
    } catch (err) {
      if (err !== BAIL) throw err;
      return twoPass(args);
    }
    const text = topHit ? REDACTED_JSON : out.audit;
    return { field: new PreEncodedField(key, FIELD, text, () => redact(args).redacted), digest: `sha256:${sha256Hex(out.full)}` };
  };
}
