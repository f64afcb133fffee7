import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { terminalMessage } from '../cli/terminal-message.js';
import { CHUNK_BYTES, LineSplitter } from './line-stream.js';
import { lastNewlineBefore } from './log-files.js';
import type { AuditRecord } from './record-codec.js';
import { parseRecordLine } from './read-records.js';

/** What `tail -n N -f` read before following: the last records of the rotated files, and N. */
export interface Backlog {
  readonly records: readonly AuditRecord[];
  readonly count: number;
}

/** An incomplete last line up to this long is read again from its start (readAppended); a longer one is kept as it is read. */
const REREAD_PARTIAL_MAX = CHUNK_BYTES;

/**
 * Where the line that `size` ends in starts: just after the last newline before `size`, looked
 * for in the last REREAD_PARTIAL_MAX bytes only (beyond that, `size` itself). A follower starts
 * there, so a record still being written, or a torn one that the writer will cut off, is read
 * whole from its start instead of joined in the middle.
 */
function lineStartBefore(fd: number, size: number): number {
  const floor = Math.max(0, size - REREAD_PARTIAL_MAX);
  const nl = lastNewlineBefore(fd, size, floor);
  return nl >= 0 ? nl + 1 : floor === 0 ? 0 : size;
}

/** How far a follower has read a file: its offset, and the file size at the last read. */
interface Followed {
  offset: number;
  size: number;
}

/**
 * Reads what was appended to `fd` since `at` in chunks (a large backlog, e.g. a new file after
 * rotation, is never one buffer), hands on the complete records, and moves `at` on.
 *
 * The log's writer cuts its own last bytes off: a torn record at start-up (a crash cut a write),
 * and a write a full disk cut short; it writes on where it cut. So an incomplete last line is not
 * kept across reads: `at.offset` stays at its start and it is read again once the file changed,
 * whole, or as the start of what replaced it. Kept, it was glued to the middle of the record
 * written in its place and both were skipped as not a record (the `audit.recovered` that says
 * the last run crashed never showed). A file cut below what was read is read on from the end of
 * its last complete line.
 */
function readAppended(fd: number, at: Followed, lines: LineSplitter, buf: Buffer, onRecords: (records: AuditRecord[]) => void): void {
  const size = fstatSync(fd).size;
  if (size === at.size && at.offset <= size) return; // nothing new: an incomplete line is not read again and again
  at.size = size;
  let pos = at.offset;
  if (size < pos) {
    lines.dropPending();
    pos = lineStartBefore(fd, size);
  }
  while (pos < size) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n === 0) break;
    pos += n;
    const records: AuditRecord[] = [];
    for (const l of lines.push(buf.subarray(0, n))) {
      const r = l.tooLong ? undefined : parseRecordLine(l.text);
      if (r) records.push(r);
    }
    onRecords(records);
  }
  const partial = lines.pendingBytes;
  if (partial > 0 && partial <= REREAD_PARTIAL_MAX) {
    lines.dropPending();
    pos -= partial;
  }
  at.offset = pos;
}

/** A read of the followed file failed: the log cannot be read, so following it ends (exit 3). */
class FollowReadError extends Error {}

/**
 * Follows the active file like `tail -F`: reads appended bytes from an open descriptor; when the
 * path names a new file (rotation), drains the old descriptor to its end first, then continues
 * with the new file from its start, so no record is skipped across rotation.
 *
 * What is transient and what is not, as `tail -F` has it: a path that is missing, cannot be
 * opened or is not a regular file is what a rotation in progress or a moved file looks like,
 * so tail says so once on stderr and waits for a readable log there. A read that fails on a file
 * it holds open (EIO, EINVAL: the bytes cannot be had) will not heal by waiting: tail names the
 * file on stderr and ends with exit 3, like `tail` without -f on that file. Nothing in the poll
 * loop may escape as an uncaught exception (a stack trace, exit 1): anything else unexpected ends
 * with the file named and exit 4.
 */
export function follow(active: string, io: CliIo, print: (records: readonly AuditRecord[]) => void, backlog?: Backlog): Promise<number> {
  let fd = -1;
  let ino = -1;
  const at: Followed = { offset: 0, size: -1 };
  let lines = new LineSplitter(active);
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let out = print;
  const drain = (): void => {
    try {
      readAppended(fd, at, lines, buf, (records) => out(records));
    } catch (err) {
      throw new FollowReadError(`${active}: cannot read: ${errorText(err)}; stopped following`, { cause: err });
    }
  };
  // The waiting problem said last: said once, and again only once the log was readable meanwhile.
  let said: string | undefined;
  const waitFor = (problem: string): void => {
    if (said !== problem) io.stderr.write(`warden audit tail: ${terminalMessage(`${active}: ${problem}`)}; waiting for the log\n`);
    said = problem;
  };
  const open = (fromEnd: boolean): void => {
    try {
      // Non-blocking: a FIFO put at the path would block a plain open (and with it SIGINT) forever.
      fd = openSync(active, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      fd = -1;
      // Not there (yet): between a rotation's unlink and the new file. Anything else is worth a word.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') waitFor(`cannot open (${errorText(err)})`);
      return; // try again on the next tick
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      // A FIFO or a device is not a log (a device may never end): wait for a regular file.
      closeSync(fd);
      fd = -1;
      waitFor('not a regular file');
      return;
    }
    said = undefined;
    ino = st.ino;
    // From the end of the last complete line: a record being written as tail starts shows once whole.
    at.offset = fromEnd ? lineStartBefore(fd, st.size) : 0;
    at.size = -1;
    lines = new LineSplitter(active);
  };
  /** The active file from its start, its records after the backlog's, the last `count` printed. */
  const first = (b: Backlog): void => {
    const ring = [...b.records];
    out = (records) => {
      ring.push(...records);
      if (ring.length > 2 * b.count) ring.splice(0, ring.length - b.count);
    };
    try {
      open(false);
      if (fd >= 0) drain();
    } finally {
      out = print;
      print(ring.slice(-b.count));
    }
  };
  const poll = (): void => {
    if (fd < 0) return open(false);
    drain();
    let now;
    try {
      now = statSync(active).ino;
    } catch (err) {
      // A symbolic link loop put at the path is no rotation step (those rename, unlink and
      // create): it never turns into the next log by itself. Ignored, tail went on reading the
      // file it held and never followed the path again, silently. What was written to the held
      // file is read first; then tail stops, naming the file (exit 3, the path is unreadable).
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
        drain();
        throw new FollowReadError(`${active}: the path became a symbolic link loop (ELOOP); stopped following`, { cause: err });
      }
      return; // between rename and re-create
    }
    if (now !== ino) {
      drain(); // writes that landed between the drain above and the rename
      closeSync(fd);
      fd = -1;
      open(false);
      if (fd >= 0) drain();
    }
  };
  return new Promise((resolveDone) => {
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (code: number): void => {
      finished = true;
      clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (fd >= 0) closeSync(fd);
      fd = -1;
      resolveDone(code);
    };
    function stop(): void {
      finish(EXIT.ok);
    }
    const step = (run: () => void): void => {
      try {
        run();
      } catch (err) {
        const read = err instanceof FollowReadError;
        io.stderr.write(`warden audit tail: ${terminalMessage(read ? err.message : `${active}: ${errorText(err)}; stopped following`)}\n`);
        finish(read ? EXIT.config : EXIT.unavailable);
      }
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    step(() => (backlog ? first(backlog) : open(true)));
    if (!finished) timer = setInterval(() => step(poll), 200);
  });
}

/** An fs error as its code (`EIO`), else its message. */
function errorText(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

