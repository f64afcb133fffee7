import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Longest line held in memory, so one hostile line cannot take unbounded memory. Records are far
 * smaller: the largest, `call.received`, carries arguments bounded by `limits.maxMessageBytes`
 * (4 MiB by default; escaping at most doubles the characters it escapes). The margin leaves room
 * for raised limits.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** Bytes read per `read(2)`. */
export const CHUNK_BYTES = 1024 * 1024;
/** What an over-long line keeps of its start (capped by the bound), so callers can say what it looked like. */
export const HEAD_BYTES = 4096;

/** One line of a file, split at `\n` only (a `\r` before it stays in `text`: verify must see it). */
export interface Line {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** The decoded line; for an over-long line only its first HEAD_BYTES bytes. */
  readonly text: string;
  /** Byte length without the newline. */
  readonly bytes: number;
  /** False only for a last line that does not end with `\n`. */
  readonly terminated: boolean;
  /** Longer than the bound: `text` is only its head, the rest was counted and dropped. */
  readonly tooLong: boolean;
  /**
   * The bytes are not valid UTF-8 (checked only when `text` holds U+FFFD, what bad bytes decode
   * to). Different bad bytes decode to the same text, so `text` alone would hide such an edit.
   */
  readonly badUtf8?: boolean;
}

/** Whether decoding `bytes` to `text` replaced invalid UTF-8 (U+FFFD is rare: one scan, no check). */
function badUtf8(text: string, bytes: Buffer): boolean {
  return text.includes('\uFFFD') && !isUtf8(bytes);
}

export interface LineStreamOptions {
  readonly chunkBytes?: number;
  readonly maxLineBytes?: number;
  /** Called with the byte count of each read (progress on long reads, read-progress.ts). */
  readonly onRead?: (bytes: number) => void;
}

/**
 * Splits a byte stream into lines. Bytes of a line that spans chunks are copied and joined before
 * decoding, so a UTF-8 sequence split by a chunk boundary decodes whole; a line within one chunk
 * is decoded straight from it. Beyond `maxLineBytes` a line keeps only its head.
 */
export class LineSplitter {
  private pieces: Buffer[] = [];
  private pending = 0;
  private head: Buffer | undefined;
  private lineNo = 0;

  constructor(
    private readonly file: string,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** The lines `chunk` completes, in order; the chunk may be reused by the caller afterwards. */
  *push(chunk: Buffer): Generator<Line> {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (this.pending === 0 && nl - start <= this.maxLineBytes) {
        const text = chunk.toString('utf8', start, nl);
        yield this.make(text, nl - start, true, false, badUtf8(text, chunk.subarray(start, nl)));
      } else {
        this.keep(chunk, start, nl);
        yield this.take(true);
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk, start, chunk.length);
  }

  /** The unterminated last line, if the stream ended inside one. */
  end(): Line | undefined {
    return this.pending > 0 ? this.take(false) : undefined;
  }

  /** Bytes of the line not yet terminated (what follows the last newline pushed). */
  get pendingBytes(): number {
    return this.pending;
  }

  /** Forgets the line not yet terminated: its bytes are to be read again (a follower rewinds to them). */
  dropPending(): void {
    this.pieces = [];
    this.pending = 0;
    this.head = undefined;
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    this.pending += to - from;
    if (this.head !== undefined) return;
    // Copy: the caller reuses its chunk buffer.
    this.pieces.push(Buffer.from(chunk.subarray(from, to)));
    if (this.pending > this.maxLineBytes) {
      // Keep only the head (a copy, never above the bound); the rest is counted, not stored.
      this.head = Buffer.concat(this.pieces, Math.min(HEAD_BYTES, this.maxLineBytes));
      this.pieces = [];
    }
  }

  private take(terminated: boolean): Line {
    const bytes = this.pending;
    const tooLong = this.head !== undefined;
    // An over-long line is never decoded as a record (its head may end inside a character).
    const whole = tooLong ? undefined : Buffer.concat(this.pieces, bytes);
    const text = whole === undefined ? (this.head as Buffer).toString('utf8') : whole.toString('utf8');
    this.pieces = [];
    this.pending = 0;
    this.head = undefined;
    return this.make(text, bytes, terminated, tooLong, whole !== undefined && badUtf8(text, whole));
  }

  private make(text: string, bytes: number, terminated: boolean, tooLong: boolean, bad: boolean): Line {
    this.lineNo += 1;
    return bad ? { file: this.file, line: this.lineNo, text, bytes, terminated, tooLong, badUtf8: true } : { file: this.file, line: this.lineNo, text, bytes, terminated, tooLong };
  }
}

/**
 * Opens a log file for reading and checks it is a regular file (links followed); throws, naming
 * the file, when it is not. The caller owns the descriptor.
 */
export function openLogFile(file: string): number {
  // Non-blocking open: a FIFO put in the log's place would block a plain open until a writer came.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    // A log is a regular file (links followed): a FIFO or a device (/dev/zero never ends) would
    // hang the reader, and a verify in a monitoring job would never report.
    if (!fstatSync(fd).isFile()) throw new Error(`${file}: not a regular file`);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * The lines of a file, read in fixed-size chunks with synchronous reads (the CLI has nothing else
 * to do meanwhile). Memory: one chunk plus the longest line up to the bound. Errors (missing file,
 * a directory, anything but a regular file) are thrown when the generator is first advanced.
 */
export function* readLines(file: string, options: LineStreamOptions = {}): Generator<Line> {
  const fd = openLogFile(file);
  try {
    yield* readLinesOf(fd, file, options);
  } finally {
    closeSync(fd);
  }
}

/** The lines of a file opened with openLogFile, from its start; the descriptor stays open. */
export function* readLinesOf(fd: number, file: string, options: LineStreamOptions = {}): Generator<Line> {
  const buf = Buffer.allocUnsafe(options.chunkBytes ?? CHUNK_BYTES);
  const splitter = new LineSplitter(file, options.maxLineBytes);
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    pos += n;
    options.onRead?.(n);
    yield* splitter.push(buf.subarray(0, n));
  }
  const last = splitter.end();
  if (last) yield last;
}
