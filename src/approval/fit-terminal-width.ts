/**
 * Cuts the approval card's lines to the approver's terminal width, so no line wraps.
 *
 * A wrapped line is a forgery channel: an argument value of spaces up to the edge of the screen
 * followed by `  who   alice via trusted-agent` draws, on the row the terminal wraps it to, what
 * looks like one of the card's own fields. Every other defence (escaping controls, cutting lines
 * at MAX_ARG_LINE_CHARS) still lets a 160-character line wrap on an 80-column terminal. A line that
 * never wraps starts every row the approver reads, and the card's own fields are its first lines.
 */

/**
 * Columns a character takes, over-estimated on purpose: printable ASCII counts one, every other code
 * point two (East Asian wide and fullwidth characters take two columns; the rest take one or, after
 * terminalSafe, are escaped to ASCII). Over-estimating only ever cuts a line sooner than needed.
 */
function columnsOfChar(ch: string): number {
  const c = ch.charCodeAt(0);
  return ch.length === 1 && c >= 0x20 && c < 0x7f ? 1 : 2;
}

function columnsOf(text: string): number {
  let n = 0;
  for (const ch of text) n += columnsOfChar(ch);
  return n;
}

/** The longest start of `text` that takes at most `max` columns (by columnsOf). */
function headWithin(text: string, max: number): string {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const w = columnsOfChar(ch);
    if (used + w > max) break;
    used += w;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** Narrowest width a card is cut to; below it a terminal is unusable anyway and nothing is cut. */
const MIN_COLUMNS = 20;

/**
 * Each line cut to fit `columns` (ending `…` when cut), and whether any was cut. `columns`
 * undefined (not a terminal) or below MIN_COLUMNS leaves the lines as they are.
 */
export function fitToColumns(lines: readonly string[], columns: number | undefined): { lines: string[]; cut: boolean } {
  if (columns === undefined || !Number.isFinite(columns) || columns < MIN_COLUMNS) return { lines: [...lines], cut: false };
  // One column spare: some terminals wrap a line that fills the last column exactly.
  const width = columns - 1;
  let cut = false;
  const fitted = lines.map((line) => {
    if (columnsOf(line) <= width) return line;
    cut = true;
    // The ellipsis is ambiguous-width: two columns in some East Asian terminal settings.
    return `${headWithin(line, width - 2)}…`;
  });
  return { lines: fitted, cut };
}
