import { closeSync, constants, fstatSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { AuditCorruptError, AuditUnavailableError } from './audit-errors.js';
import { openLogFile } from './line-stream.js';
import { decodeRecordBytes, type DecodeResult } from './record-codec.js';
import type { Checkpoint } from './checkpoint.js';
import { finishInterruptedRotation } from './rotate-file.js';
import { copyRangeToNewFile, inspectTail, lastNewlineBefore, linesBackwards, listRotated } from './log-files.js';

/** The active log file opened for append, and where its chain stands. */
export interface OpenedFile {
  fd: number;
  ino: number;
  dev: number;
  size: number;
  /** Set when a torn last line was cut off (and saved next to the log). */
  repaired: { discardedBytes: number; movedTo: string } | undefined;
  /** Set when a rotation a crash interrupted was completed first: the rotated file's path. */
  finishedRotation?: string;
  lastSeq: number | undefined;
  lastHash: string | undefined;
}

/**
 * `open(2)` flags of the active file: read and append, created when missing, and non-blocking, so
 * that a FIFO at the path cannot block the open (O_NONBLOCK changes nothing for a regular file).
 */
const ACTIVE_FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;

/**
 * Opens the active path for append after cutting off (and saving) a torn last line, and reads
 * the last good record. Anything but a regular file at the path (a FIFO, a device such as
 * /dev/full, a link to one) is refused with AuditUnavailableError: a FIFO takes 64 KiB and then
 * blocks write(2), and with it warden's only thread (no call answered, not even refused);
 * refused, the sink stays unavailable (calls blocked) and retries until a file is there.
 */
export function openActiveFile(path: string): OpenedFile {
  // Before opening: appending to a file that is also a rotated file would change that file.
  const finishedRotation = finishInterruptedRotation(path);
  const fd = openSync(path, ACTIVE_FLAGS, 0o640);
  try {
    const st = fstatSync(fd);
    const rotation = finishedRotation === undefined ? {} : { finishedRotation };
    if (!st.isFile()) throw new AuditUnavailableError(`${path}: not a regular file; the audit log must be one`);
    const tail = inspectTail(fd);
    let repaired: OpenedFile['repaired'];
    if (tail.tornBytes > 0) {
      const movedTo = `${path}.torn-${Date.now()}`;
      // Saved block by block: a tail of GBs appended without a newline is never held in memory.
      copyRangeToNewFile(fd, tail.goodEnd, tail.size, movedTo);
      ftruncateSync(fd, tail.goodEnd);
      repaired = { discardedBytes: tail.tornBytes, movedTo };
    }
    if (tail.lastLineTooLong) {
      throw new AuditCorruptError(`${path}: last complete line is longer than any audit record; run 'warden audit verify'`);
    }
    const last = tail.lastLine === undefined ? undefined : decodeRecordBytes(tail.lastLine);
    if (last && last.kind !== 'ok') {
      // Continuing after a record we cannot vouch for would launder tampering into a valid chain.
      throw new AuditCorruptError(`${path}: last complete line is not a valid audit record (${last.kind}); run 'warden audit verify'`);
    }
    const record = last?.kind === 'ok' ? last.record : undefined;
    return { fd, ino: st.ino, dev: st.dev, size: tail.goodEnd, repaired, lastSeq: record?.seq, lastHash: record?.hash, ...rotation };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Cuts the file back to `size` bytes (where the last committed record ends) after a write that
 * failed part-way: a short write before ENOSPC can leave whole records on disk that the sink
 * never counted (the call was blocked). Kept, they would claim a decision that was never acted
 * on, and the next record would repeat their seq. Needs no free space. False when the cut was
 * not possible (not a regular file, or the file system refused).
 */
export function cutBack(fd: number, size: number): boolean {
  try {
    if (!fstatSync(fd).isFile()) return false;
    if (fstatSync(fd).size > size) ftruncateSync(fd, size);
    return true;
  } catch {
    return false;
  }
}

/** Seq and hash of the last record of the newest rotated file, if there is one. */
export function lastOfRotated(active: string): { seq: number; hash: string } | undefined {
  const newest = listRotated(active).at(-1);
  if (!newest) return undefined;
  // Non-blocking, regular files only: a FIFO under a rotated name would block a plain open.
  const fd = openLogFile(newest.path);
  try {
    const tail = inspectTail(fd);
    if (tail.lastLineTooLong) throw new AuditCorruptError(`${newest.path}: last line is longer than any audit record`);
    const last = tail.lastLine === undefined ? undefined : decodeRecordBytes(tail.lastLine);
    if (last?.kind === 'ok') return { seq: last.record.seq, hash: last.record.hash };
    if (last) throw new AuditCorruptError(`${newest.path}: last line is not a valid audit record (${last.kind})`);
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The record with `seq` in one file, searched from its end: its decoded line, `before` when the
 * file's records pass below `seq` without it, undefined when the file starts after it.
 */
function findBackwards(path: string, seq: number): DecodeResult | 'before' | undefined {
  const fd = openLogFile(path);
  try {
    // The complete lines only: whatever follows the last newline is not a record yet.
    const lastNl = lastNewlineBefore(fd, fstatSync(fd).size);
    if (lastNl < 0) return undefined;
    for (const raw of linesBackwards(fd, lastNl)) {
      const d = decodeRecordBytes(raw);
      const at = d.kind === 'ok' || d.kind === 'bad_hash' ? d.record.seq : undefined;
      if (at === seq) return d;
      if (at !== undefined && at < seq) return 'before';
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks at start-up that the log still holds the record the previous checkpoint vouches for.
 * Without this, a log edited while warden was stopped (records changed and re-hashed, the
 * length kept) would be continued, and the next checkpoint, signed, would vouch for the edit:
 * tampering laundered into a valid chain. Only the records after the checkpoint are read (from
 * the end, newest file first): at most those of one checkpoint period.
 */
export function assertCheckpointInLog(active: string, cp: { seq: number; hash: string }, lastSeq: number, lastHash: string, cpFile: string): void {
  if (cp.seq === 0 || cp.seq > lastSeq) return; // nothing vouched for, or a cut-off log (checkpoint_ahead)
  let hash = cp.seq === lastSeq ? lastHash : undefined;
  if (hash === undefined) {
    for (const file of [active, ...listRotated(active).map((r) => r.path).reverse()]) {
      const found = findBackwards(file, cp.seq);
      if (found === undefined) continue; // this file starts after it: look in the older one
      if (found !== 'before' && found.kind === 'ok') hash = found.record.hash;
      break;
    }
  }
  if (hash === cp.hash) return;
  throw new AuditCorruptError(
    `${active}: record seq ${cp.seq} no longer matches the checkpoint ${cpFile} (the log was changed while warden was stopped); run 'warden audit verify'`,
  );
}

function pathError(code: 'file_removed' | 'file_replaced'): Error {
  return Object.assign(new Error(code === 'file_removed' ? 'audit file was removed' : 'audit file was replaced'), { code });
}

/** Throws (code file_removed / file_replaced) when `fd` is no longer the file at `path`. */
export function assertStillAtPath(fd: number, path: string, ino: number, dev: number): void {
  if (fstatSync(fd).nlink === 0) throw pathError('file_removed');
  let at;
  try {
    at = statSync(path);
  } catch {
    throw pathError('file_removed');
  }
  if (at.ino !== ino || at.dev !== dev) throw pathError('file_replaced');
}

/**
 * Why the previous checkpoint cannot vouch for the log warden continues: there is none, it cannot
 * be read, or it is not signed by the configured key.
 */
export type CheckpointDistrust = 'checkpoint_missing' | 'checkpoint_unreadable' | 'checkpoint_unsigned';

/** The checkpoint the previous run left (if readable), and why it cannot be trusted (if so). */
export interface PreviousCheckpoint {
  readonly cp: Checkpoint | undefined;
  readonly distrust: CheckpointDistrust | undefined;
}

export interface RestartNote {
  reason: string;
  reasons: string[];
  lastGoodSeq: number;
  discardedBytes?: number;
  movedTo?: string;
  /** The rotated file a crash left the active file a second name of (the rotation was completed). */
  rotationFinished?: string;
  checkpointSeq?: number;
  checkpointHash?: string;
}

/**
 * What the previous run left behind, for the `audit.recovered` record that opens a new run:
 * a torn line, a crash (checkpoint not written by close()), a rotation cut short by a crash, a
 * log shorter than its checkpoint, or records no trustworthy checkpoint vouches for (see
 * unvouchedReasons).
 */
export function restartNote(opened: OpenedFile, prior: PreviousCheckpoint, seq: number): RestartNote | undefined {
  const previous = prior.cp;
  // What the log lost or how the last run ended is taken only from a checkpoint that can vouch
  // (trustedCheckpoint): a forged one would write a false `checkpoint_ahead` into the chain.
  const trusted = trustedCheckpoint(prior);
  const reasons: string[] = [];
  if (opened.repaired) reasons.push('torn_tail');
  if (opened.finishedRotation !== undefined) reasons.push('rotation_interrupted');
  if (trusted && trusted.seq > seq) reasons.push('checkpoint_ahead');
  else if (trusted && trusted.closed !== true) reasons.push('unclean_shutdown');
  reasons.push(...unvouchedReasons(prior, seq));
  if (reasons.length === 0) return undefined;
  return {
    reason: reasons[0] as string,
    reasons,
    lastGoodSeq: seq,
    ...(opened.repaired ?? {}),
    ...(opened.finishedRotation === undefined ? {} : { rotationFinished: basename(opened.finishedRotation) }),
    ...(previous ? { checkpointSeq: previous.seq, checkpointHash: previous.hash } : {}),
  };
}

/**
 * The previous checkpoint when it can vouch for the log, else undefined. With a signing key, one
 * not signed by it (`checkpoint_unsigned`) is no evidence either way: whoever can write its file
 * wrote it. Judging the log by it let a forged hash stop warden from starting (audit_corrupt) and a
 * forged seq beyond the end plant `checkpoint_ahead` (verify: truncated_tail) in an intact chain.
 * It counts as no checkpoint; the restart is recorded as unvouched all the same.
 */
export function trustedCheckpoint(prior: PreviousCheckpoint): Checkpoint | undefined {
  return prior.distrust === undefined ? prior.cp : undefined;
}

/**
 * Reasons the log's records (1..seq) were not vouched for by a trustworthy checkpoint when warden
 * continued them: the checkpoint is missing, unreadable or unsigned (prior.distrust), or it is a
 * clean close's checkpoint behind the log's end (`checkpoint_behind`: close() checkpoints every
 * record it wrote, so records after it were added, or an older checkpoint was put back to hide
 * an edit of them). Said in the chain, so the checkpoint signed next does not silently vouch
 * for what was edited while warden was stopped. An empty log has nothing to vouch for.
 */
function unvouchedReasons(prior: PreviousCheckpoint, seq: number): string[] {
  if (seq === 0) return [];
  const reasons: string[] = prior.distrust ? [prior.distrust] : [];
  if (prior.cp && prior.cp.closed === true && prior.cp.seq < seq) reasons.push('checkpoint_behind');
  return reasons;
}

/** One write(2) in the normal case; a short write (legal, e.g. near a full disk) continues. */
export function writeFully(fd: number, line: string, length: number): void {
  const n = writeSync(fd, line);
  if (n === length) return;
  const bytes = Buffer.from(line, 'utf8');
  let off = n;
  while (off < length) off += writeSync(fd, bytes, off, length - off);
}
