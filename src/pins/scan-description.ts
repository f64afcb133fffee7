import type { Reason } from '../core/decision.js';
import { KIND_SPECS, type PinKind, type PinnedPart } from './definition-digest.js';

export const POISONED_CODE = 'tool.poisoned_description';

interface Detector {
  /** Holds for text with the finding; a RegExp is tested, a function called. */
  readonly pattern: RegExp | { readonly test: (text: string) => boolean };
  readonly weight: number;
  readonly detail: string;
}

// Text a human reviewer would not see, or instructions aimed at the model rather than the user.
const DETECTORS: readonly Detector[] = [
  {
    // Also the other default-ignorable characters that render as nothing: the combining grapheme
    // joiner, Hangul fillers, Mongolian selectors, Khmer inherent vowels, deprecated format
    // controls, shorthand and musical format controls, supplementary variation selectors and a
    // run of variation selectors (one U+FE0F after an emoji is ordinary; a run encodes bytes).
    pattern:
      /[\u200B-\u200D\u2060-\u2065\u206A-\u206F\uFEFF\u180B-\u180F\u00AD\u034F\u115F\u1160\u17B4\u17B5\u3164\uFFA0\u{1BCA0}-\u{1BCA3}\u{1D173}-\u{1D17A}\u{E0100}-\u{E01EF}]|[\uFE00-\uFE0F]{2}/u,
    weight: 30,
    detail: 'zero-width or invisible characters',
  },
  { pattern: /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u, weight: 30, detail: 'bidirectional control characters' },
  { pattern: /[\u{E0000}-\u{E007F}]/u, weight: 40, detail: 'Unicode tag characters (hidden ASCII)' },
  { pattern: /<!--[\s\S]*?(?:-->|$)/, weight: 30, detail: 'HTML comment' },
  {
    pattern: { test: instructionTag },
    weight: 40,
    detail: 'instruction tag aimed at the model (e.g. <IMPORTANT>)',
  },
  {
    pattern: /\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|preceding|other|system)\s+(?:instructions?|prompts?|rules|directions|messages)/i,
    weight: 40,
    detail: 'asks the model to ignore its instructions',
  },
  {
    pattern: /\b(?:do\s+not|don['\u2019]?t|never)\s+(?:tell|inform|mention|reveal|show|alert|notify|let)\b[^.\n]{0,40}?\b(?:user|human|operator)s?\b/i,
    weight: 40,
    detail: 'asks the model to hide something from the user',
  },
  {
    pattern: /\bwithout\s+(?:telling|informing|notifying|alerting|asking)\s+(?:the\s+)?(?:user|human|operator)/i,
    weight: 40,
    detail: 'asks the model to act without telling the user',
  },
  {
    pattern: /\b(?:read|send|include|pass|upload|attach|cat)\b[^.\n]{0,60}(?:~\/\.ssh|id_rsa|\.env\b|\/etc\/passwd|mcp\.json|credentials)/i,
    weight: 40,
    detail: 'asks the model to read or send credentials',
  },
  { pattern: /[A-Za-z0-9+/_-]{120,}={0,2}/, weight: 20, detail: 'long base64-like blob' },
];

// `\s*(?:\/\s*)?`, not `\s*\/?\s*`: two adjacent `\s*` split a run of spaces every way (quadratic).
const TAG_OPENER = /<\s*(?:\/\s*)?(?:important|system|instructions?|secret|hidden|admin|prompt|sudo|override|context|assistant)\b/i;

/**
 * An instruction tag: an opener such as `<IMPORTANT` or `</system` with a `>` somewhere after it
 * (what `opener[^>]*>` matches). Written as a search for the opener and one for the last `>`,
 * because the single regex rescanned to the end of the text from every unclosed opener:
 * quadratic, minutes on a 1.6 MB description, and the scan runs synchronously.
 */
function instructionTag(text: string): boolean {
  const opener = TAG_OPENER.exec(text);
  return opener !== null && text.lastIndexOf('>') >= opener.index + opener[0].length;
}

/**
 * Flags a tool description (or any text shown to the model) that carries hidden text or
 * instructions aimed at the model. Returns one Reason per kind of finding; [] for clean text.
 */
export function scanDescription(text: string): Reason[] {
  // The model reads compatibility forms as what they stand for (fullwidth `＜ＩＭＰＯＲＴＡＮＴ＞`
  // is `<IMPORTANT>`), so the phrases are also looked for in the NFKC form.
  const forms = [text];
  const folded = text.normalize('NFKC');
  if (folded !== text) forms.push(folded);
  const reasons: Reason[] = [];
  for (const d of DETECTORS) {
    if (forms.some((t) => d.pattern.test(t))) reasons.push({ code: POISONED_CODE, weight: d.weight, detail: d.detail });
  }
  if (!reasons.some((r) => r.detail === BLOB.detail) && forms.some(wrappedBlob)) reasons.push(BLOB);
  return reasons;
}

const BLOB: Reason = { code: POISONED_CODE, weight: 20, detail: 'long base64-like blob' };

/**
 * A base64 blob broken into lines or words (MIME wraps at 76): consecutive tokens of 16+
 * base64 characters adding up to 120+. Token by token, so the cost stays linear (a regex
 * spanning the whitespace would backtrack quadratically on one long token).
 */
function wrappedBlob(text: string): boolean {
  let run = 0;
  for (const token of text.split(/\s+/)) {
    if (token.length >= 16 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(token)) {
      run += token.length;
      if (run >= 120) return true;
    } else run = 0;
  }
  return false;
}

/** How much of a schema is read: nodes in all, and nesting depth. */
const MAX_SCHEMA_NODES = 10_000;
const MAX_SCHEMA_DEPTH = 64;

interface ScanBudget {
  nodes: number;
  /** Set when a bound stopped the walk: some strings were never scanned. */
  cut: boolean;
}

/** Collects every string in a schema (bounded), where parameter descriptions hide instructions too. */
function schemaStrings(value: unknown, out: string[], budget: ScanBudget, depth = 0): void {
  if (budget.nodes-- <= 0 || depth > MAX_SCHEMA_DEPTH) {
    budget.cut = true;
    return;
  }
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) schemaStrings(v, out, budget, depth + 1);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      schemaStrings(v, out, budget, depth + 1);
    }
  }
}

/**
 * A definition too large or too deep to read whole: what the walk never reached is unscanned,
 * and padding a schema must not be a way to hide a poisoned parameter description behind the
 * bound, so an unscanned remainder is a finding itself (fail safe: it needs a person to accept).
 */
const TOO_LARGE: Reason = {
  code: POISONED_CODE,
  weight: 20,
  detail: `definition too large to scan (over ${MAX_SCHEMA_NODES} schema nodes or ${MAX_SCHEMA_DEPTH} levels deep)`,
};

/**
 * scanDescription over the description, title and every string in the kind's structured fields:
 * a tool's annotations and schemas, a prompt's arguments (their names and descriptions), a
 * resource template's URI template, MIME type and annotations.
 */
export function scanDefinition(def: PinnedPart, kind: PinKind): Reason[] {
  const texts: string[] = [];
  const budget: ScanBudget = { nodes: MAX_SCHEMA_NODES, cut: false };
  // Not a string is not valid MCP, but a client that prints the definition as JSON shows the model
  // every string in it: walked like a schema rather than skipped.
  for (const text of [def.description, def.title]) {
    if (typeof text === 'string') texts.push(text);
    else schemaStrings(text, texts, budget);
  }
  for (const field of KIND_SPECS[kind].walked) schemaStrings(def[field], texts, budget);
  const seen = new Set<string>();
  const reasons: Reason[] = budget.cut ? [TOO_LARGE] : [];
  for (const reason of texts.flatMap((t) => scanDescription(t))) {
    if (seen.has(reason.detail)) continue;
    seen.add(reason.detail);
    reasons.push(reason);
  }
  return reasons;
}

/** scanDefinition of a tool: description, title, annotations and every string in the schemas. */
export function scanToolDefinition(def: PinnedPart): Reason[] {
  return scanDefinition(def, 'tool');
}
