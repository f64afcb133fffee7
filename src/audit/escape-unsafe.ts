/**
 * Characters that JSON.stringify leaves raw but that must never reach a terminal or a reviewer
 * unescaped: C1 controls and DEL, zero-width and bidi overrides (Trojan Source), line/paragraph
 * separators and the BOM. C0 controls (U+0000–U+001F) are already escaped by JSON.stringify.
 */
const UNSAFE = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const UNSAFE_TEST = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

function toEscape(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Escapes unsafe characters in a JSON text as `\uXXXX`. Safe on a whole JSON document: these
 * characters can only occur inside strings, and the escape parses back to the same string.
 * The hash chain covers the escaped text, which is what is written.
 */
export function escapeUnsafeJson(json: string): string {
  // The test-first path keeps the common (clean) case to one scan without allocation.
  return UNSAFE_TEST.test(json) ? json.replace(UNSAFE, toEscape) : json;
}

/**
 * Characters a reader must not print raw (the text of the `tail`, `show`, `query`, `stats`
 * readers): every C0 control (a newline in a name would forge a line), DEL and C1 controls
 * (ESC/CSI/OSC sequences drive the terminal: rewrite the screen, set the clipboard), bidi
 * controls and marks (reorder what is read), line separators and invisible characters. Wider
 * than UNSAFE, which fixes what the writer escapes and so cannot change without breaking verify.
 */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\u{e0000}-\u{e007f}]/gu;
/** The same without C0: in JSON text those are escaped already, and the newlines of pretty printing stay. */
const JSON_TEXT_UNSAFE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\u{e0000}-\u{e007f}]/gu;

/** `\uXXXX` per UTF-16 unit: valid in JSON, and visible on a terminal. */
function unitEscapes(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/** Text from a record made safe to print on a terminal: unsafe characters shown as `\uXXXX`. */
export function terminalText(text: string): string {
  return text.replace(TERMINAL_UNSAFE, unitEscapes);
}

/**
 * JSON text made safe to print on a terminal: JSON.stringify escapes C0 controls but leaves C1
 * controls, bidi and invisible characters raw; they are escaped too (the JSON still parses to
 * the same value, as these characters only occur inside strings).
 */
export function terminalJson(json: string): string {
  return json.replace(JSON_TEXT_UNSAFE, unitEscapes);
}
