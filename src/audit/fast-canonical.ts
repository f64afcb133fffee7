import { MAX_DEPTH, REDACTED, keyMatcher, stringScrubber, type KeyMatcher, type RedactRules } from './redact-rules.js';
import { createCanonicalRedactor } from './redact-canonical.js';
import { flat, jsonNumber, jsonString } from './json-text.js';
import { keyOrderCache, type KeyOrder } from './key-order.js';
import { isSealedForAudit } from './sealed-value.js';
import { PreEncodedField, rulesKey } from './pre-encoded.js';
import type { FieldSerializer } from './record-codec.js';

const REDACTED_JSON = JSON.stringify(REDACTED);
const CACHE_MAX = 4096;
const CACHED_VALUE_MAX_LENGTH = 64;
/** Returned by the walk for a value it does not handle: the whole field goes to the generic path. */
const BAIL = null;
type Text = string | undefined | typeof BAIL;

/** JSON text of a scrubbed string; short strings (tool names, codes, ids) repeat, so their text is cached (bounded). */
function cachedStringText(scrub: (s: string) => string): (s: string) => string {
  const texts = new Map<string, string>();
  return (s) => {
    if (s.length > CACHED_VALUE_MAX_LENGTH) return jsonString(scrub(s));
    let t = texts.get(s);
    if (t === undefined) {
      t = flat(jsonString(scrub(s)));
      if (texts.size >= CACHE_MAX) texts.clear();
      texts.set(s, t);
    }
    return t;
  };
}

/** Plain data objects: what JSON parsing and object literals make. Dates, Errors, buffers and class instances are not. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && !ArrayBuffer.isView(value);
}

/** What the walk needs from the rules: key/path redaction, string texts and key orders. */
interface WalkRules {
  readonly hit: KeyMatcher;
  readonly stringText: (s: string) => string;
  readonly orderOf: (keys: string[]) => KeyOrder;
}

/**
 * The walk over plain data behind createFieldSerializer: `member(redacted, value, depth)` gives
 * the text of one member (undefined = omitted, BAIL = not handled here). `path` and `ancestors`
 * are the walk's state, exposed so a new field can start from a clean state.
 */
function plainWalk({ hit, stringText, orderOf }: WalkRules) {
  const path: string[] = [];
  const ancestors: object[] = [];
  const member = (redacted: boolean, v: unknown, depth: number): Text =>
    redacted ? (v === undefined ? undefined : REDACTED_JSON) : canon(v, depth);

  const object = (value: Record<string, unknown>, depth: number): Text => {
    const { sorted, quoted, joined, redacted } = orderOf(Object.keys(value));
    let out = '';
    for (let i = 0; i < sorted.length; i++) {
      const k = sorted[i] as string;
      let text: Text;
      if (redacted !== undefined) text = member(redacted[i] as boolean, value[k], depth + 1);
      else {
        path.push(k);
        text = member(hit(path), value[k], depth + 1);
        path.pop();
      }
      if (text === BAIL) return BAIL;
      if (text !== undefined) out = out === '' ? (quoted[i] as string) + text : out + (joined[i] as string) + text;
    }
    return `{${out}}`;
  };

  const array = (value: readonly unknown[], depth: number): Text => {
    let out = '';
    for (let i = 0; i < value.length; i++) {
      const text = canon(value[i], depth + 1);
      if (text === BAIL) return BAIL;
      out = i === 0 ? (text ?? 'null') : `${out},${text ?? 'null'}`;
    }
    return `[${out}]`;
  };

  const canon = (value: unknown, depth: number): Text => {
    switch (typeof value) {
      case 'string': return stringText(value);
      case 'number': return jsonNumber(value);
      case 'boolean': return value ? 'true' : 'false';
      case 'undefined': case 'function': case 'symbol': return undefined;
      case 'bigint': return BAIL;
    }
    if (value === null) return 'null';
    // The generic walk writes these as `[TRUNCATED]`; it is left to do so.
    if (depth >= MAX_DEPTH || ancestors.includes(value as object)) return BAIL;
    const isArray = Array.isArray(value);
    if (!isArray && !isPlainObject(value as object)) return BAIL;
    ancestors.push(value as object);
    const text = isArray ? array(value, depth) : object(value as Record<string, unknown>, depth);
    ancestors.pop();
    return text;
  };

  return { member, path, ancestors };
}

/**
 * The sink's field serializer: the same text as createCanonicalRedactor(rules) (the generic,
 * reference walk), made cheaper for plain data: learned key orders instead of a sort per object,
 * an ancestor stack instead of a Set, direct number and string texts. Anything else (Dates,
 * Errors, buffers, class instances, bigints, cycles, depth at the limit) hands the whole field
 * to the generic walk, so odd values are written exactly as before. `generic` must be that walk
 * for the same rules (a parameter so tests can see when it is used).
 */
export function createFieldSerializer(rules: RedactRules = {}, generic: FieldSerializer = createCanonicalRedactor(rules)): FieldSerializer {
  const hit = keyMatcher(rules.paths ?? []);
  const keyOnly = hit.keyOnly;
  const stringText = cachedStringText(stringScrubber(rules.patterns ?? []));
  const { member, path, ancestors } = plainWalk({ hit, stringText, orderOf: keyOrderCache((k) => `${jsonString(k)}:`, keyOnly) });

  const field = (value: unknown, key: string): string | undefined => {
    // Both are empty unless a getter threw mid-walk; setting length is a runtime call, so only then.
    if (path.length !== 0) path.length = 0;
    if (ancestors.length !== 0) ancestors.length = 0;
    // Top-level fields sit at depth 1, as in the generic walk.
    let text: Text;
    if (keyOnly) text = member(keyOnly(key), value, 1);
    else {
      path.push(key);
      text = member(hit(path), value, 1);
    }
    return text === BAIL ? generic(value, key) : text;
  };

  // Sealed values are deeply frozen and the rules never change: one text per (value, field name).
  const sealedText = new WeakMap<object, { readonly key: string; readonly text: string | undefined }>();
  const ownRules = rulesKey(rules);
  return (value, key) => {
    if (value === null || typeof value !== 'object') return field(value, key);
    if (value instanceof PreEncodedField) {
      // Computed ahead for these very rules and this field: the same text this walk would write.
      return value.rulesKey === ownRules && value.fieldKey === key ? value.text : field(value.value, key);
    }
    if (!isSealedForAudit(value)) return field(value, key);
    const cached = sealedText.get(value);
    if (cached !== undefined && cached.key === key) return cached.text;
    const text = field(value, key);
    sealedText.set(value, { key, text });
    return text;
  };
}
