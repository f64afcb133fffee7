import { StringDecoder } from 'node:string_decoder';

/**
 * Longest stderr line of an upstream child warden holds (and logs); the rest of a longer line is
 * discarded unread. stderr is diagnostics, not protocol, so nothing there needs more.
 */
export const MAX_STDERR_LINE_CHARS = 4_096;

/**
 * Splits a child's stderr into lines. An unfinished line is held only up to MAX_STDERR_LINE_CHARS:
 * a child writing without a newline (hostile, or a binary dumped to stderr) used to grow one string
 * in warden without bound, re-split on every chunk (memory every session shares, and quadratic
 * CPU). Past the bound the line is reported cut, ending in `…`, and skipped to its newline.
 */
export class StderrLines {
  private pending = '';
  /** True while discarding the rest of a line that was cut. */
  private skipping = false;
  /** Keeps a multi-byte character split between two pipe reads whole. */
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxChars: number = MAX_STDERR_LINE_CHARS,
  ) {}

  /** Takes one chunk read from the child's stderr; calls `onLine` for every non-blank line it ends. */
  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.append(text.slice(start, nl));
      this.endLine();
      start = nl + 1;
    }
    this.append(text.slice(start));
  }

  private append(part: string): void {
    if (this.skipping || part === '') return;
    const room = this.maxChars - this.pending.length;
    if (part.length <= room) {
      this.pending += part;
      return;
    }
    // Over the bound: report what is held, cut, and drop the rest of the line as it arrives.
    const cut = this.pending + part.slice(0, room);
    this.pending = '';
    this.skipping = true;
    this.onLine(`${cut}…`);
  }

  private endLine(): void {
    const line = this.pending;
    this.pending = '';
    if (this.skipping) this.skipping = false;
    else if (line.trim()) this.onLine(line);
  }
}
