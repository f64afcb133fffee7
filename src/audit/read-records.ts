import { closeSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AuditRecord } from './record-codec.js';
import { logSet } from './log-files.js';
import { openLogFile, readLinesOf, type LineStreamOptions } from './line-stream.js';
import { AuditUnreadableError } from './audit-errors.js';
import { OpenLogError, openLogSet } from './open-log-set.js';

/** `--file`, else `WARDEN_AUDIT_FILE`, else `./warden-audit.jsonl`, resolved against cwd. */
export function defaultAuditFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  return resolve(cwd, flag ?? env.WARDEN_AUDIT_FILE ?? 'warden-audit.jsonl');
}

/** One active file expands to its rotated set (oldest first); a rotated file stands alone. */
export function expandSet(file: string): string[] {
  const set = logSet(file);
  return set.length > 0 ? set : existsSync(file) ? [file] : [];
}

/**
 * Parses one line for the reading commands (tail, show, query, stats); undefined when it is not
 * a record. Nothing is checked against the chain: reading is not verification (`verify` is).
 */
export function parseRecordLine(line: string): AuditRecord | undefined {
  if (line.length === 0 || line[0] !== '{') return undefined;
  try {
    const r = JSON.parse(line) as AuditRecord;
    if (r && typeof r === 'object' && typeof r.seq === 'number' && typeof r.type === 'string') return r;
  } catch {
    // torn or foreign line: skipped here, reported by verify
  }
  return undefined;
}

/** Parses the records of a piece of text (lines that are not records are skipped). */
export function parseRecords(text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    const r = parseRecordLine(line);
    if (r) out.push(r);
  }
  return out;
}

/**
 * The records of a set of files, streamed in file order (a set from expandSet is oldest file
 * first, so an untampered set comes out in seq order). Lines that are not records, and lines
 * longer than the line bound, are skipped. Memory: one chunk and one line.
 *
 * Every file is opened (and checked to be a regular file) before the first record is handed
 * out: a later file that is missing, a directory or a FIFO fails the read before the caller
 * printed anything (`query --json` would otherwise leave half an array on stdout), and a file
 * removed meanwhile (an operator archiving the oldest ones) is still read through its descriptor.
 */
export function* streamRecords(files: readonly string[], options: StreamOptions = {}): Generator<AuditRecord> {
  const opened = options.active !== undefined && files.includes(options.active) ? openSet(options.active) : openAll(files);
  try {
    for (const { file, fd } of opened) {
      try {
        for (const line of readLinesOf(fd, file, options)) {
          const r = line.tooLong ? undefined : parseRecordLine(line.text);
          if (r) yield r;
        }
      } catch (err) {
        throw unreadable(file, err);
      }
    }
  } finally {
    for (const { fd } of opened) closeSync(fd);
  }
}

export interface StreamOptions extends LineStreamOptions {
  /**
   * The active file `files` were expanded from (expandSet): when they hold it, the set is listed
   * again as it is opened (openLogSet), so a rotation since the listing cannot leave the file it
   * moved out. (Without it, missing or not openable, there is no rotation to race.)
   */
  readonly active?: string;
}

/** openLogSet, its failure as the readers' unreadable-file error. */
function openSet(active: string): { file: string; fd: number }[] {
  try {
    return openLogSet(active);
  } catch (err) {
    if (err instanceof OpenLogError) throw unreadable(err.file, err.cause);
    throw err;
  }
}

/** Opens every file of the set, or none: on the first failure the ones opened are closed. */
function openAll(files: readonly string[]): { file: string; fd: number }[] {
  const opened: { file: string; fd: number }[] = [];
  try {
    for (const file of files) opened.push({ file, fd: openLogFile(file) });
  } catch (err) {
    for (const { fd } of opened) closeSync(fd);
    throw unreadable(files[opened.length] as string, err);
  }
  return opened;
}

/** A read error naming the file (node's own may not), typed for the CLI's exit 3. */
function unreadable(file: string, err: unknown): Error {
  if (err instanceof AuditUnreadableError) return err;
  const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new AuditUnreadableError(why.startsWith(`${file}: `) ? why : `${file}: cannot read: ${why}`, { cause: err });
}

/** All records of a set of files in file order. Holds them all: for tests and small sets. */
export function readRecords(files: readonly string[]): AuditRecord[] {
  return [...streamRecords(files)];
}

/** The last `n` records of a set, kept in a ring while streaming. */
export function lastRecords(files: readonly string[], n: number, options: StreamOptions = {}): AuditRecord[] {
  if (n <= 0) return [];
  const ring: AuditRecord[] = [];
  let oldest = 0;
  for (const r of streamRecords(files, options)) {
    if (ring.length < n) ring.push(r);
    else {
      ring[oldest] = r;
      oldest = (oldest + 1) % n;
    }
  }
  return [...ring.slice(oldest), ...ring.slice(0, oldest)];
}

const RELATIVE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `15m`, `6h`, `2d`, `1w` → ms; undefined when not such a duration. */
export function parseDuration(value: string): number | undefined {
  const m = RELATIVE.exec(value.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : undefined;
}

/** `--since 1h` / `--until 2026-11-22T10:00:00Z` → epoch ms; undefined when unparseable. */
export function parseTime(value: string, now: number): number | undefined {
  const m = RELATIVE.exec(value.trim());
  if (m) return now - Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
