import { basename } from 'node:path';
import { checkpointSignatureValid, loadPublicKey, readCheckpointFile, type Checkpoint } from './checkpoint.js';
import type { Entry, VerifyCode, VerifyOptions, VerifyProblem, VerifyReport, WalkResult } from './verify-audit.js';

/**
 * Compares the walked chain with the checkpoint: signature first (with a public key), then a
 * checkpoint seq beyond the end (truncated tail), then the hash at the checkpoint's seq.
 */
export function checkCheckpoint(walk: WalkResult, entries: readonly Entry[], options: VerifyOptions): { problem?: VerifyProblem; summary: VerifyReport['checkpoint'] } {
  if (options.checkpoint === undefined) {
    if (options.publicKey !== undefined) {
      return { problem: { code: 'unsigned_checkpoint', file: '', line: 0, message: 'a public key was given but no checkpoint' }, summary: { status: 'failed' } };
    }
    return { summary: { status: 'none' } };
  }
  const where = typeof options.checkpoint === 'string' ? options.checkpoint : '(checkpoint)';
  const fail = (code: VerifyCode, message: string, cp?: Checkpoint): { problem: VerifyProblem; summary: VerifyReport['checkpoint'] } => ({
    problem: { code, file: where, line: 0, ...(cp ? { seq: cp.seq } : {}), message },
    summary: { status: 'failed', ...(cp ? { seq: cp.seq, file: cp.file } : {}) },
  });
  let cp: Checkpoint;
  try {
    cp = typeof options.checkpoint === 'string' ? readCheckpointFile(options.checkpoint) : options.checkpoint;
  } catch (err) {
    return fail('bad_checkpoint', `checkpoint unreadable: ${(err as Error).message}`);
  }
  if (options.publicKey !== undefined) {
    const key = typeof options.publicKey === 'string' ? loadPublicKey(options.publicKey) : options.publicKey;
    if (!cp.signature) return fail('unsigned_checkpoint', 'checkpoint carries no signature', cp);
    if (!checkpointSignatureValid(cp, key)) return fail('bad_signature', 'checkpoint signature does not verify with this public key', cp);
  }
  if (cp.seq > walk.lastSeq) {
    const lastFile = walk.lastEntry?.file ?? entries.at(-1)?.file ?? where;
    return fail('truncated_tail', `checkpoint says seq ${cp.seq} but the log ends at seq ${walk.lastSeq} (${basename(lastFile)})`, cp);
  }
  if (cp.seq > 0 && walk.hashBySeq.get(cp.seq) !== cp.hash) {
    return fail('modified_record', `record seq ${cp.seq} does not match the hash in the checkpoint`, cp);
  }
  const status = cp.signature && options.publicKey !== undefined ? 'signed' : 'ok';
  return { summary: { status, seq: cp.seq, file: cp.file, ...(cp.keyId ? { keyId: cp.keyId } : {}) } };
}
