import type { KeyObject } from 'node:crypto';
import type { Checkpoint } from './checkpoint.js';
import { decodeRecord, type DecodeResult } from './record-codec.js';
import type { Line } from './line-stream.js';

/** Stable problem codes of `warden audit verify` (documented in the README, "Audit trail": the verify problem table). */
export type VerifyCode =
  | 'modified_record'
  | 'deleted_record'
  | 'inserted_record'
  | 'reordered_records'
  | 'duplicate_record'
  | 'garbage_appended'
  | 'missing_file'
  | 'truncated_tail'
  | 'torn_tail'
  | 'bad_signature'
  | 'unsigned_checkpoint'
  | 'bad_checkpoint'
  | 'unreadable_file'
  // Warnings only (never a `problem`): records the checkpoint does not vouch for.
  | 'uncovered_records'
  | 'no_checkpoint'
  // Warning only: the checkpoint is signed but no public key was given to check the signature.
  | 'unchecked_signature'
  // Warning only: warden restarted on records no trustworthy checkpoint vouched for.
  | 'unvouched_restart';

export interface VerifyProblem {
  readonly code: VerifyCode;
  readonly file: string;
  /** 1-based line number in `file` (0 when the problem is about the checkpoint or the set). */
  readonly line: number;
  readonly seq?: number;
  readonly message: string;
}

export interface FileSummary {
  file: string;
  firstSeq: number | null;
  lastSeq: number | null;
  lines: number;
}

export interface VerifyReport {
  /** True when no problem was found (a torn tail alone is a warning). */
  readonly ok: boolean;
  /** Records that continue the chain from its start, or from the anchor when one was given. */
  readonly records: number;
  readonly lastSeq: number;
  /** The anchor the set was verified from (absent: from the chain's start). */
  readonly anchor?: ChainAnchor;
  readonly lastHash: string;
  readonly files: readonly FileSummary[];
  readonly problem?: VerifyProblem;
  readonly warnings: readonly VerifyProblem[];
  /**
   * Records of the intact chain after the checkpoint's seq (all of them without a checkpoint, or
   * with one that failed): covered by the hash chain only, so a cut-off or a re-hashed rewrite of
   * them would not show.
   */
  readonly uncoveredRecords: number;
  /** `ts` (when it was written) lets a reader spot an older checkpoint put back (a rollback). */
  readonly checkpoint: { status: 'none' | 'ok' | 'signed' | 'failed'; seq?: number; file?: string; ts?: string; keyId?: string };
}

export interface VerifyOptions {
  /** Checkpoint file path or an already parsed checkpoint. */
  readonly checkpoint?: string | Checkpoint;
  /** Ed25519 public key (PEM path or KeyObject): the checkpoint must carry a valid signature. */
  readonly publicKey?: string | KeyObject;
  /** Bytes per read (tests use tiny chunks to cut lines everywhere). */
  readonly chunkBytes?: number;
  /** Lines longer than this are not held in memory and count as bad lines. */
  readonly maxLineBytes?: number;
  /** Called with the byte count of each read of a log file (progress, read-progress.ts). */
  readonly onRead?: (bytes: number) => void;
  /**
   * Where the set starts when older files were removed (retention): the seq and hash of the last
   * removed record, taken from verifying those files before they went. The first record must
   * be seq + 1 and link to this hash. Default: the chain's start (seq 0, the genesis hash).
   */
  readonly anchor?: ChainAnchor;
}

/** A trusted point of the chain: the seq and hash of a record the set continues from. */
export interface ChainAnchor {
  readonly seq: number;
  readonly hash: string;
}

/** Where a line is. */
export interface Place {
  readonly file: string;
  readonly line: number;
}

/** A line longer than the bound: never decoded (only its head was kept). */
export interface TooLong {
  readonly kind: 'too_long';
}

/** One line of the set as the verifier sees it. */
export interface Entry extends Place {
  /** The line; for an over-long line only its head. */
  readonly raw: string;
  readonly bytes: number;
  readonly terminated: boolean;
  readonly decoded: DecodeResult | TooLong;
  readonly fileStart: boolean;
}

const TOO_LONG: TooLong = { kind: 'too_long' };

/**
 * A line decoded as a record. Invalid UTF-8 is never what the writer wrote: a record on such a
 * line is parsed but does not match (its bytes differ from the canonical text its hash covers).
 */
function decodeLine(l: Line): DecodeResult {
  const d = decodeRecord(l.text);
  return l.badUtf8 === true && d.kind === 'ok' ? { kind: 'bad_hash', record: d.record } : d;
}

export function toEntry(l: Line): Entry {
  return {
    file: l.file,
    line: l.line,
    raw: l.text,
    bytes: l.bytes,
    terminated: l.terminated,
    decoded: l.tooLong ? TOO_LONG : decodeLine(l),
    fileStart: l.line === 1,
  };
}

const SEQ_RE = /"seq":(\d+)/;

/** The seq a line claims: its parsed one, else the first `"seq":N` in its text. */
export function guessSeq(e: Entry): number | undefined {
  if (e.decoded.kind === 'ok' || e.decoded.kind === 'bad_hash') return e.decoded.record.seq;
  const m = SEQ_RE.exec(e.raw);
  return m ? Number(m[1]) : undefined;
}

export function at(e: Place, code: VerifyCode, message: string, seq?: number): VerifyProblem {
  return { code, file: e.file, line: e.line, ...(seq !== undefined ? { seq } : {}), message };
}
