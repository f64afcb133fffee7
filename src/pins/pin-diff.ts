import { canonicalJson } from '../core/canonical-json.js';
import { ALL_PINNED_FIELDS, type PinnedPart } from './definition-digest.js';

// Invisible and control characters are shown as \u{...} so a diff never hides what changed.
// eslint-disable-next-line no-control-regex
// Controls, bidi marks and every default-ignorable code point (zero-width characters, Hangul
// fillers, variation selectors, tags...): what renders as nothing must not pass a review unseen.
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u202A-\u202E]|\p{Default_Ignorable_Code_Point}/gu;

/** showInvisible plus newlines and tabs, for one-line labels and table cells from untrusted names. */
export function oneLine(text: string): string {
  return showInvisible(text).replace(/[\t\n]/g, (c) => (c === '\t' ? '\\t' : '\\n'));
}

/** Renders invisible, control and bidi characters visibly. */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`);
}

function lines(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return value.split('\n');
  return JSON.stringify(JSON.parse(canonicalJson(value)), null, 2).split('\n');
}

const MAX_CELLS = 250_000;

/** Line diff (LCS). Falls back to all-removed/all-added for very large inputs. */
function diffLines(a: readonly string[], b: readonly string[]): string[] {
  if (a.length * b.length > MAX_CELLS) return [...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)];
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = a[i] === b[j] ? (lcs[i + 1] as number[])[j + 1]! + 1 : Math.max((lcs[i + 1] as number[])[j]!, row[j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j >= m || (lcs[i + 1] as number[])[j]! >= (lcs[i] as number[])[j + 1]!)) {
      out.push(`-${a[i]}`);
      i++;
    } else {
      out.push(`+${b[j]}`);
      j++;
    }
  }
  return out;
}

/** Keeps changed lines with up to `context` unchanged lines around them. */
function trimContext(out: readonly string[], context = 3): string[] {
  const keep = out.map((l) => !l.startsWith(' '));
  const shown: string[] = [];
  let skipped = 0;
  for (let k = 0; k < out.length; k++) {
    const near = keep.slice(Math.max(0, k - context), k + context + 1).some(Boolean);
    if (near) {
      if (skipped > 0) shown.push(` ... (${skipped} unchanged lines)`);
      skipped = 0;
      shown.push(out[k] as string);
    } else skipped++;
  }
  if (skipped > 0) shown.push(` ... (${skipped} unchanged lines)`);
  return shown;
}

/**
 * A unified-style text diff of the fields that changed between the pinned and the seen
 * definition (of any kind). `before` undefined (a new definition) shows every field as added.
 */
export function diffDefinitions(label: string, before: PinnedPart | undefined, after: PinnedPart): string {
  const out: string[] = [`--- ${oneLine(label)} (pinned)`, `+++ ${oneLine(label)} (seen)`];
  // Every kind's fields: those a definition of another kind lacks are empty on both sides, so skipped.
  for (const field of ALL_PINNED_FIELDS) {
    const a = before ? lines(before[field]) : [];
    const b = lines(after[field]);
    if (canonicalJson(a) === canonicalJson(b)) continue;
    out.push(`@@ ${field} @@`, ...trimContext(diffLines(a, b)).map(showInvisible));
  }
  return out.join('\n');
}
