import { basename } from 'node:path';
import { checkpointSignatureValid, keyFingerprint, loadPublicKey, readCheckpointFile, type Checkpoint } from './checkpoint.js';
import type { Place, VerifyCode, VerifyOptions, VerifyProblem, VerifyReport } from './verify-types.js';

/** The checkpoint as read once, before the log: none given, parsed, or unreadable (why). */
export type LoadedCheckpoint =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly cp: Checkpoint }
  | { readonly kind: 'bad'; readonly message: string };

/**
 * Reads the checkpoint before the log is walked: the walk then keeps only the hash at its seq.
 * A writer appends records first and moves the checkpoint after, so a checkpoint read first can
 * never be ahead of the records read afterwards (read later, it could: a false truncated_tail).
 */
export function loadCheckpoint(options: VerifyOptions): LoadedCheckpoint {
  if (options.checkpoint === undefined) return { kind: 'none' };
  try {
    return { kind: 'ok', cp: typeof options.checkpoint === 'string' ? readCheckpointFile(options.checkpoint) : options.checkpoint };
  } catch (err) {
    return { kind: 'bad', message: (err as Error).message };
  }
}

/** What the checkpoint check needs from the walk. */
export interface WalkedChain {
  readonly lastSeq: number;
  /** File of the last good record, else of the last line of the set. */
  readonly lastFile: string | undefined;
  readonly hashAtCheckpoint: string | undefined;
  /** The anchor's seq the set was verified from (0: the chain's start). */
  readonly anchorSeq: number;
}

type Checked = { problem?: VerifyProblem; summary: VerifyReport['checkpoint'] };

/**
 * Compares the walked chain with the checkpoint: signature first (with a public key), then a
 * checkpoint seq beyond the end (truncated tail), then the hash at the checkpoint's seq.
 */
export function checkCheckpoint(loaded: LoadedCheckpoint, walk: WalkedChain, options: VerifyOptions): Checked {
  if (loaded.kind === 'none') {
    if (options.publicKey !== undefined) {
      return { problem: { code: 'unsigned_checkpoint', file: '', line: 0, message: 'a public key was given but no checkpoint' }, summary: { status: 'failed' } };
    }
    return { summary: { status: 'none' } };
  }
  const where = typeof options.checkpoint === 'string' ? options.checkpoint : '(checkpoint)';
  const fail = (code: VerifyCode, message: string, cp?: Checkpoint): Checked => ({
    problem: { code, file: where, line: 0, ...(cp ? { seq: cp.seq } : {}), message },
    summary: { status: 'failed', ...(cp ? { seq: cp.seq, file: cp.file } : {}) },
  });
  if (loaded.kind === 'bad') return fail('bad_checkpoint', `checkpoint unreadable: ${loaded.message}`);
  const cp = loaded.cp;
  // The fingerprint of the key that checked the signature: the file's keyId is not signed.
  let checkedKeyId: string | undefined;
  if (options.publicKey !== undefined) {
    const key = typeof options.publicKey === 'string' ? loadPublicKey(options.publicKey) : options.publicKey;
    if (!cp.signature) return fail('unsigned_checkpoint', 'checkpoint carries no signature', cp);
    if (!checkpointSignatureValid(cp, key)) return fail('bad_signature', 'checkpoint signature does not verify with this public key', cp);
    checkedKeyId = keyFingerprint(key);
  }
  if (cp.seq < walk.anchorSeq) {
    // Its record was removed with the older files, so it vouches for nothing here. Warden keeps
    // the checkpoint at the end of the log: one older than the anchor was put back (a rollback
    // hiding a cut-off end) or the anchor is wrong.
    return fail('bad_checkpoint', `checkpoint seq ${cp.seq} lies before the anchor (seq ${walk.anchorSeq}): it cannot vouch for this set`, cp);
  }
  if (cp.seq > walk.lastSeq) {
    return fail('truncated_tail', `checkpoint says seq ${cp.seq} but the log ends at seq ${walk.lastSeq} (${basename(walk.lastFile ?? where)})`, cp);
  }
  if (cp.seq > 0 && walk.hashAtCheckpoint !== cp.hash) {
    return fail('modified_record', `record seq ${cp.seq} does not match the hash in the checkpoint`, cp);
  }
  const status = cp.signature && options.publicKey !== undefined ? 'signed' : 'ok';
  const keyId = checkedKeyId ?? cp.keyId;
  return { summary: { status, seq: cp.seq, file: cp.file, ts: cp.ts, ...(keyId ? { keyId } : {}) } };
}

/** Records of an intact chain (anchorSeq+1..lastSeq) that the checkpoint does not vouch for. */
export function uncoveredCount(lastSeq: number, anchorSeq: number, summary: VerifyReport['checkpoint']): number {
  const vouched = summary.status === 'ok' || summary.status === 'signed' ? (summary.seq ?? 0) : 0;
  return Math.max(0, lastSeq - Math.max(vouched, anchorSeq));
}

/**
 * Warnings for what the checkpoint cannot vouch for, given when nothing failed: the records after
 * its seq (`uncovered_records`, at the first of them), or everything when there is none
 * (`no_checkpoint`). A chain can be re-hashed from any record to its end, and its end cut off,
 * without a break; only the checkpoint pins where it ended and what it said there.
 */
export function coverageWarnings(lastSeq: number, anchorSeq: number, summary: VerifyReport['checkpoint'], first: Place | undefined): VerifyProblem[] {
  if (summary.status === 'none') {
    return [{ code: 'no_checkpoint', file: '', line: 0, message: 'no checkpoint: records cut off the end of the log, or edited and re-hashed up to its end, cannot be detected' }];
  }
  const n = uncoveredCount(lastSeq, anchorSeq, summary);
  if (n === 0 || first === undefined) return [];
  const from = lastSeq - n + 1;
  return [{
    code: 'uncovered_records', file: first.file, line: first.line, seq: from,
    message: `${n} record(s) after the checkpoint (seq ${from}..${lastSeq}) are covered by the hash chain only: cut off, or edited and re-hashed, they would not be detected`,
  }];
}

/**
 * A signed checkpoint verified without `--public-key` vouches no more than an unsigned one:
 * whoever rewrites the log can rewrite the checkpoint to match and keep the old, now invalid,
 * signature. Said as a warning (given when nothing failed), not left to an `OK`.
 */
export function signatureWarnings(loaded: LoadedCheckpoint, options: VerifyOptions): VerifyProblem[] {
  if (loaded.kind !== 'ok' || !loaded.cp.signature || options.publicKey !== undefined) return [];
  const file = typeof options.checkpoint === 'string' ? options.checkpoint : '(checkpoint)';
  const message = 'the checkpoint is signed but its signature was not checked (no --public-key): a rewritten log with a rewritten checkpoint would pass';
  return [{ code: 'unchecked_signature', file, line: 0, seq: loaded.cp.seq, message }];
}
