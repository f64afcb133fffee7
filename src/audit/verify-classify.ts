import { basename } from 'node:path';
import type { AuditRecord } from './record-codec.js';
import { at, guessSeq, type Place, type VerifyProblem } from './verify-types.js';
import type { ChainBreak } from './verify-walk.js';

/** A record of the intact chain before the break: where it is and its hash (read on demand). */
export interface ChainRecord extends Place {
  readonly hash: string | undefined;
}

/** Finds the chain record with this seq (one below the break), reading the set again. */
export type ChainLookup = (seq: number) => ChainRecord;

/**
 * Says why the chain broke: a bad line (torn tail, garbage after the end, an inserted or a
 * modified line) or a well-formed record that does not continue the chain.
 */
export function classifyBreak(b: ChainBreak, multiFile: boolean, chainAt: ChainLookup): VerifyProblem {
  const d = b.entry.decoded;
  return d.kind === 'ok' ? wrongRecord(b, d.record, multiFile, chainAt) : badLine(b);
}

/** A well-formed record that does not continue the chain: say why. */
function wrongRecord(b: ChainBreak, r: AuditRecord, multiFile: boolean, chainAt: ChainLookup): VerifyProblem {
  const e = b.entry;
  // Every line before the break continues the chain, so the only earlier line that can carry
  // this record's hash is the chain record with the same seq (a hash covers the seq).
  const earlier = r.seq < b.expected ? chainAt(r.seq) : undefined;
  if (b.sameHashLater > 0 || earlier?.hash === r.hash) return at(e, 'duplicate_record', `record seq ${r.seq} appears more than once`, r.seq);
  if (r.seq === b.expected) {
    // Same slot, wrong link: the previous record was changed and re-hashed (or this one forged).
    if (b.last) return at(b.last, 'modified_record', `record seq ${r.seq - 1} does not match the prev hash of its successor`, r.seq - 1);
    if (b.expected > 1) return at(e, 'modified_record', `first record does not continue the anchor (its prev is not the hash given for seq ${b.expected - 1})`, r.seq);
    return at(e, 'modified_record', `first record does not start the chain (prev is not the genesis hash)`, r.seq);
  }
  if (earlier) {
    // When the next line links to this record, it is the chain's one and the earlier is forged.
    const forged = b.next?.prev === r.hash ? earlier : e;
    return at(forged, 'inserted_record', `a second record claims seq ${r.seq}; this one is not part of the chain`, r.seq);
  }
  const later = b.laterInGap;
  if (later) {
    return at(e, 'reordered_records', `record seq ${r.seq} comes before seq ${later.seq} (line ${later.line} of ${basename(later.file)})`, r.seq);
  }
  const missing = r.seq - b.expected;
  // The set starts after seq 1: older files removed on purpose need an anchor to verify from.
  const hint = !b.last && b.expected === 1 ? ' (if older files were removed on purpose, verify with --anchor SEQ:HASH taken from them before removal)' : '';
  // A gap of one record at a file start is a deleted line; a larger one is a missing rotated file.
  if (e.fileStart && multiFile && missing > 1) {
    return at(e, 'missing_file', `file starts at seq ${r.seq} but seq ${b.expected} was expected: ${missing} record(s) in a missing file${hint}`, r.seq);
  }
  return at(e, 'deleted_record', `seq ${b.expected}${missing > 1 ? `..${r.seq - 1}` : ''} missing before seq ${r.seq}${hint}`, b.expected);
}

/** A line that is not a valid record: torn tail, garbage after the end, an insert, or a modification. */
function badLine(b: ChainBreak): VerifyProblem {
  const e = b.entry;
  const tooLong = e.decoded.kind === 'too_long';
  // An over-long line is judged by its head only: that is all that was kept of it.
  const looksLikeRecord = e.decoded.kind === 'bad_hash' || e.raw.includes('"hash":"') || e.raw.includes('"prev":"');
  if (b.following === 0 && !e.terminated && (e.raw.startsWith('{') || e.raw === '')) {
    // The stored byte count: a crash can cut a UTF-8 character, which decodes to more bytes.
    return at(e, 'torn_tail', `last line is incomplete (${e.bytes} bytes): a write cut off by a crash`);
  }
  if (b.next && b.next.seq === b.expected && b.next.prev === b.prevHash) {
    return at(e, 'inserted_record', `line is not part of the chain: the records around it link directly`);
  }
  if (b.restInvalid && !looksLikeRecord) return at(e, 'garbage_appended', `data that is not an audit record after the last record`);
  const seq = guessSeq(e);
  const what = seq !== undefined ? `seq ${seq} ` : '';
  if (tooLong) return at(e, 'modified_record', `record ${what}is too long to read (${e.bytes} bytes, beyond the line bound)`, seq);
  return at(e, 'modified_record', `record ${what}does not match its hash (${e.decoded.kind})`, seq);
}
