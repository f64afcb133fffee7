import { closeSync, existsSync, lstatSync, openSync, readSync, readdirSync, fstatSync, writeSync, type Stats } from 'node:fs';
import { MAX_LINE_BYTES } from './line-stream.js';
import { basename, dirname, extname, join } from 'node:path';

/**
 * Rotation naming: the active file keeps its configured name (`warden-audit.jsonl`); when it is
 * full it is moved (linked, then unlinked: see rotate-file.ts) to `warden-audit.N.jsonl` with N
 * one more than the highest existing index, so `.1` is the oldest file and the active file
 * always holds the newest records.
 */
export function rotatedName(active: string, index: number): string {
  const ext = extname(active);
  return join(dirname(active), `${basename(active, ext)}.${index}${ext}`);
}

function rotatedPattern(active: string): RegExp {
  const ext = extname(active);
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${esc(basename(active, ext))}\\.(\\d+)${esc(ext)}$`);
}

/**
 * The active file whose rotated file `file` is (`warden-audit.3.jsonl` → `warden-audit.jsonl`),
 * or undefined when its name is no rotated name (an index beyond 2^53 is none, as in listRotated).
 */
export function rotatedBaseOf(file: string): string | undefined {
  const m = /^(.+)\.(\d+)(\.[^.]+)?$/.exec(basename(file));
  if (!m) return undefined;
  const active = join(dirname(file), `${m[1]}${m[3] ?? ''}`);
  const index = Number(m[2]);
  return Number.isSafeInteger(index) && rotatedName(active, index) === join(dirname(file), basename(file)) ? active : undefined;
}

/** Rotated siblings of an active file, oldest first, as `{ index, path }`. */
export function listRotated(active: string): { index: number; path: string }[] {
  const dir = dirname(active);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const re = rotatedPattern(active);
  const out: { index: number; path: string }[] = [];
  for (const name of names) {
    const m = re.exec(name);
    // Exact indexes only: beyond 2^53, N + 1 === N, and the next rotation would pick the name
    // of an existing file (a planted `.100000000000000000000.` one made every rotation
    // rename over the one before). Not one of warden's names: not part of the set.
    const index = m ? Number(m[1]) : Number.NaN;
    if (Number.isSafeInteger(index)) out.push({ index, path: join(dir, name) });
  }
  return out.sort((a, b) => a.index - b.index);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The rotated file the active path is a second name of, if any: the state a crash between the
 * link and the unlink of a rotation leaves (newest rotated file first, the one a rotation
 * links). Its records belong to the rotated name; read under both names they would be the chain
 * twice, and appended to under the active name they would change a rotated file.
 */
export function rotatedTwinOf(active: string): string | undefined {
  const st = statOrUndefined(active);
  if (!st || !st.isFile() || st.nlink < 2) return undefined;
  for (const r of listRotated(active).reverse()) {
    const rs = statOrUndefined(r.path);
    if (rs && rs.ino === st.ino && rs.dev === st.dev) return r.path;
  }
  return undefined;
}

/**
 * The whole set of an active file: rotated files oldest first, then the active file if present
 * and not a second name of a rotated file (an interrupted rotation: its records are read once,
 * under the rotated name, until the next start of the writer drops the active name).
 */
export function logSet(active: string): string[] {
  const files = listRotated(active).map((r) => r.path);
  if (existsSync(active) && rotatedTwinOf(active) === undefined) files.push(active);
  return files;
}

/** Default checkpoint path next to the log: `warden-audit.checkpoint.json`. */
export function defaultCheckpointPath(active: string): string {
  const ext = extname(active);
  return join(dirname(active), `${basename(active, ext)}.checkpoint.json`);
}

const CHUNK = 64 * 1024;

/**
 * Offset of the last `\n` in `[floor, end)`, or -1. Reads backwards in chunks: memory is one
 * chunk however far back the newline is. `floor` bounds how far it reads.
 */
export function lastNewlineBefore(fd: number, end: number, floor = 0): number {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = end;
  while (pos > floor) {
    const start = Math.max(floor, pos - CHUNK);
    const n = readSync(fd, buf, 0, pos - start, start);
    const i = buf.subarray(0, n).lastIndexOf(0x0a);
    if (i >= 0) return start + i;
    pos = start;
  }
  return -1;
}

/** Bytes per read when walking a file backwards line by line. */
const BACK_CHUNK = 1024 * 1024;

/**
 * The complete lines of `[0, end)` (end just after a `\n`, or where the complete lines stop),
 * newest first, without their newlines. Reads each byte once, in 1 MiB blocks from the end: a
 * walk that read a block per line (lastNewlineBefore twice per line) read 64 KiB for every
 * 250-byte record. Memory: one block plus the line that spans blocks.
 */
export function* linesBackwards(fd: number, end: number): Generator<Buffer> {
  let pos = end;
  // The bytes of the line being assembled, from some point up to its end.
  let carry: Buffer = Buffer.alloc(0);
  while (pos > 0) {
    const start = Math.max(0, pos - BACK_CHUNK);
    const block = carry.length > 0 ? Buffer.concat([readRange(fd, start, pos), carry]) : readRange(fd, start, pos);
    let lineEnd = block.length;
    for (let nl = lineEnd > 0 ? block.lastIndexOf(0x0a, lineEnd - 1) : -1; nl >= 0; nl = lineEnd > 0 ? block.lastIndexOf(0x0a, lineEnd - 1) : -1) {
      yield block.subarray(nl + 1, lineEnd);
      lineEnd = nl;
    }
    carry = block.subarray(0, lineEnd);
    pos = start;
  }
  // The file's first line (no newline before it).
  if (end > 0) yield carry;
}

export interface TailInfo {
  readonly size: number;
  /** Offset just after the last complete line (the file is healthy up to here). */
  readonly goodEnd: number;
  /** Bytes after the last newline: a torn write left by a crash or a failed write. */
  readonly tornBytes: number;
  /** The bytes of the last complete line without its newline, if any (and not longer than the bound). */
  readonly lastLine: Buffer | undefined;
  /** The last complete line is longer than the bound: it cannot be a record, and was not read. */
  readonly lastLineTooLong: boolean;
}

/**
 * Inspects the end of an open log file without reading all of it. Memory stays bounded whatever
 * the file ends with: an unterminated tail (GBs appended without a newline) is scanned for the
 * newline before it one 64 KiB chunk at a time and never held; the last complete line is read
 * only when it is at most `maxLineBytes` long (longer, it cannot be a record).
 */
export function inspectTail(fd: number, maxLineBytes = MAX_LINE_BYTES): TailInfo {
  const size = fstatSync(fd).size;
  if (size === 0) return { size, goodEnd: 0, tornBytes: 0, lastLine: undefined, lastLineTooLong: false };
  const lastNl = lastNewlineBefore(fd, size);
  const goodEnd = lastNl + 1;
  if (goodEnd === 0) return { size, goodEnd, tornBytes: size, lastLine: undefined, lastLineTooLong: false };
  // One byte past the bound: a newline there still leaves a line of at most maxLineBytes.
  const floor = Math.max(0, lastNl - maxLineBytes - 1);
  const prevNl = lastNewlineBefore(fd, lastNl, floor);
  const lineStart = prevNl >= 0 ? prevNl + 1 : floor === 0 ? 0 : -1;
  const tornBytes = size - goodEnd;
  if (lineStart < 0 || lastNl - lineStart > maxLineBytes) return { size, goodEnd, tornBytes, lastLine: undefined, lastLineTooLong: true };
  return { size, goodEnd, tornBytes, lastLine: readRange(fd, lineStart, lastNl), lastLineTooLong: false };
}

/**
 * Copies `[start, end)` of an open file to a new file at `to` (never over an existing one), one
 * block at a time: a torn tail of any length is saved without being held in memory.
 */
export function copyRangeToNewFile(fd: number, start: number, end: number, to: string): void {
  const out = openSync(to, 'wx', 0o640);
  try {
    const buf = Buffer.allocUnsafe(BACK_CHUNK);
    for (let pos = start; pos < end; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) break;
      for (let off = 0; off < n; ) off += writeSync(out, buf, off, n - off);
      pos += n;
    }
  } finally {
    closeSync(out);
  }
}

/** Reads `[start, end)` of an open file. */
export function readRange(fd: number, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, start + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** Opens, inspects and closes, for read-only callers. */
export function inspectTailOf(path: string): TailInfo {
  const fd = openSync(path, 'r');
  try {
    return inspectTail(fd);
  } finally {
    closeSync(fd);
  }
}
