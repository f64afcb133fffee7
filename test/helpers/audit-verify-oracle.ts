// The verifier as it was before it streamed (commit 0b76442, src/audit/verify-audit.ts and
// verify-checkpoint.ts): it loads the whole set. Kept only as a test oracle, so the streaming
// verifier can be shown to produce exactly the same reports on the same (tampered) logs.
// Added since: the unchecked_signature warning (taken from the streaming verifier's own small
// function: one condition on the checkpoint, nothing to cross-check), the coverage warnings
// (uncovered_records, no_checkpoint) and uncoveredRecords,
// derived here from the whole set (the chain's records by seq) rather than from a walk's state.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { GENESIS_HASH, decodeRecord, type AuditRecord, type DecodeResult } from '../../src/audit/record-codec.js';
import { checkpointSignatureValid, loadPublicKey, readCheckpointFile, type Checkpoint } from '../../src/audit/checkpoint.js';
import type { VerifyCode, VerifyOptions, VerifyProblem, VerifyReport } from '../../src/audit/verify-audit.js';
import { loadCheckpoint, signatureWarnings } from '../../src/audit/verify-checkpoint.js';

export interface Entry {
  readonly file: string;
  readonly line: number;
  readonly raw: string;
  /** Bytes of the line as stored (a line cut inside a UTF-8 character decodes longer). */
  readonly bytes: number;
  readonly terminated: boolean;
  readonly decoded: DecodeResult;
  readonly fileStart: boolean;
}

const SEQ_RE = /"seq":(\d+)/;

function guessSeq(e: Entry): number | undefined {
  if (e.decoded.kind === 'ok' || e.decoded.kind === 'bad_hash') return e.decoded.record.seq;
  const m = SEQ_RE.exec(e.raw);
  return m ? Number(m[1]) : undefined;
}

/** Reads one file into entries (lines), keeping whether the last one ended with a newline. */
export function readEntries(file: string): Entry[] {
  const buf = readFileSync(file);
  const parts: Buffer[] = [];
  for (let start = 0; start <= buf.length; ) {
    const nl = buf.indexOf(10, start);
    const end = nl === -1 ? buf.length : nl;
    parts.push(buf.subarray(start, end));
    start = end + 1;
  }
  const endsClean = parts.at(-1)?.length === 0;
  if (endsClean) parts.pop();
  return parts.map((bytes, i) => {
    const raw = bytes.toString('utf8');
    return { file, line: i + 1, raw, bytes: bytes.length, terminated: endsClean || i < parts.length - 1, decoded: decodeRecord(raw), fileStart: i === 0 };
  });
}

/** Orders a set of files by the first sequence number they hold (files without records last). */
export function orderFiles(sets: Entry[][]): Entry[][] {
  const first = (es: Entry[]): number => {
    for (const e of es) {
      const s = guessSeq(e);
      if (s !== undefined) return s;
    }
    return Number.MAX_SAFE_INTEGER;
  };
  return [...sets].sort((a, b) => first(a) - first(b));
}

/**
 * Verifies a set of audit files (any order; sorted by first seq) and, optionally, the
 * checkpoint. Reports the first problem with a stable code.
 */
export function verifyAuditFilesInMemory(files: readonly string[], options: VerifyOptions = {}): VerifyReport {
  const sets: Entry[][] = [];
  for (const f of files) {
    try {
      sets.push(readEntries(f));
    } catch (err) {
      const problem: VerifyProblem = { code: 'unreadable_file', file: f, line: 0, message: `cannot read ${f}: ${(err as Error).message}` };
      return { ok: false, records: 0, lastSeq: 0, lastHash: GENESIS_HASH, files: [], problem, warnings: [], uncoveredRecords: 0, checkpoint: { status: 'none' } };
    }
  }
  const ordered = orderFiles(sets);
  const entries = ordered.flat();
  const walk = walkChain(entries, ordered.length > 1);
  const summaries = ordered.map((es, i) => summarize(es, files, sets, i));
  let problem = walk.problem;
  const cp = checkCheckpoint(walk, entries, options);
  if (!problem && cp.problem) problem = cp.problem;
  const coverage = coverageOf(walk, cp.summary);
  return {
    ok: problem === undefined,
    records: walk.records,
    lastSeq: walk.lastSeq,
    lastHash: walk.lastHash,
    files: summaries,
    ...(problem ? { problem } : {}),
    warnings: problem ? walk.warnings : [...walk.warnings, ...coverage.warnings, ...signatureWarnings(loadCheckpoint(options), options)],
    uncoveredRecords: coverage.uncovered,
    checkpoint: cp.summary,
  };
}

function summarize(es: Entry[], files: readonly string[], sets: Entry[][], _i: number): VerifyReport['files'][number] {
  const seqs = es.map(guessSeq).filter((s): s is number => s !== undefined);
  const file = es[0]?.file ?? files[sets.indexOf(es)] ?? '';
  return { file, firstSeq: seqs[0] ?? null, lastSeq: seqs.at(-1) ?? null, lines: es.length };
}

export interface WalkResult {
  readonly problem?: VerifyProblem;
  readonly warnings: VerifyProblem[];
  readonly records: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly hashBySeq: Map<number, string>;
  readonly lastEntry: Entry | undefined;
  readonly entryBySeq: Map<number, Entry>;
}

function at(e: Entry, code: VerifyCode, message: string, seq?: number): VerifyProblem {
  return { code, file: e.file, line: e.line, ...(seq !== undefined ? { seq } : {}), message };
}

function countHashes(entries: readonly Entry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (e.decoded.kind === 'ok') counts.set(e.decoded.record.hash, (counts.get(e.decoded.record.hash) ?? 0) + 1);
  }
  return counts;
}

/** Walks the chain in order; stops at the first problem. */
export function walkChain(entries: readonly Entry[], multiFile: boolean): WalkResult {
  const counts = countHashes(entries);
  const hashBySeq = new Map<number, string>();
  const entryBySeq = new Map<number, Entry>();
  const warnings: VerifyProblem[] = [];
  let prevHash = GENESIS_HASH;
  let expected = 1;
  let last: Entry | undefined;
  const done = (problem?: VerifyProblem): WalkResult => ({
    ...(problem ? { problem } : {}), warnings, records: hashBySeq.size, lastSeq: expected - 1, lastHash: prevHash, hashBySeq, lastEntry: last, entryBySeq,
  });
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry;
    if (e.decoded.kind !== 'ok') {
      const issue = badLine(entries, i, expected, prevHash);
      if (issue.code === 'torn_tail') {
        warnings.push(issue);
        return done();
      }
      return done(issue);
    }
    const r = e.decoded.record;
    if (r.seq === expected && r.prev === prevHash) {
      hashBySeq.set(r.seq, r.hash);
      entryBySeq.set(r.seq, e);
      prevHash = r.hash;
      expected += 1;
      last = e;
      continue;
    }
    return done(classifyBreak(entries, i, r, { expected, prevHash, last, entryBySeq, counts, multiFile }));
  }
  return done();
}

interface BreakState {
  readonly expected: number;
  readonly prevHash: string;
  readonly last: Entry | undefined;
  readonly entryBySeq: Map<number, Entry>;
  readonly counts: Map<string, number>;
  readonly multiFile: boolean;
}

/** A well-formed record that does not continue the chain: say why. */
function classifyBreak(entries: readonly Entry[], i: number, r: AuditRecord, s: BreakState): VerifyProblem {
  const e = entries[i] as Entry;
  if ((s.counts.get(r.hash) ?? 0) > 1) return at(e, 'duplicate_record', `record seq ${r.seq} appears more than once`, r.seq);
  if (r.seq === s.expected) {
    // Same slot, wrong link: the previous record was changed and re-hashed (or this one forged).
    if (s.last) return at(s.last, 'modified_record', `record seq ${r.seq - 1} does not match the prev hash of its successor`, r.seq - 1);
    return at(e, 'modified_record', `first record does not start the chain (prev is not the genesis hash)`, r.seq);
  }
  if (r.seq < s.expected) {
    const earlier = s.entryBySeq.get(r.seq);
    const next = entries[i + 1];
    const nextLinksHere = next?.decoded.kind === 'ok' && next.decoded.record.prev === r.hash;
    const forged = nextLinksHere && earlier ? earlier : e;
    return at(forged, 'inserted_record', `a second record claims seq ${r.seq}; this one is not part of the chain`, r.seq);
  }
  for (let j = i + 1; j < entries.length; j++) {
    const later = entries[j] as Entry;
    const seq = later.decoded.kind === 'ok' ? later.decoded.record.seq : undefined;
    if (seq !== undefined && seq >= s.expected && seq < r.seq) {
      return at(e, 'reordered_records', `record seq ${r.seq} comes before seq ${seq} (line ${later.line} of ${basename(later.file)})`, r.seq);
    }
  }
  const missing = r.seq - s.expected;
  const hint = !s.last && s.expected === 1 ? ' (if older files were removed on purpose, verify with --anchor SEQ:HASH taken from them before removal)' : '';
  // A gap of one record at a file start is a deleted line; a larger one is a missing rotated file.
  if (e.fileStart && s.multiFile && missing > 1) {
    return at(e, 'missing_file', `file starts at seq ${r.seq} but seq ${s.expected} was expected: ${missing} record(s) in a missing file${hint}`, r.seq);
  }
  return at(e, 'deleted_record', `seq ${s.expected}${missing > 1 ? `..${r.seq - 1}` : ''} missing before seq ${r.seq}${hint}`, s.expected);
}

/** A line that is not a valid record: torn tail, garbage after the end, an insert, or a modification. */
function badLine(entries: readonly Entry[], i: number, expected: number, prevHash: string): VerifyProblem {
  const e = entries[i] as Entry;
  const isLast = i === entries.length - 1;
  const looksLikeRecord = e.decoded.kind === 'bad_hash' || e.raw.includes('"hash":"') || e.raw.includes('"prev":"');
  if (isLast && !e.terminated && (e.raw.startsWith('{') || e.raw === '')) {
    return at(e, 'torn_tail', `last line is incomplete (${e.bytes} bytes): a write cut off by a crash`);
  }
  const next = entries[i + 1];
  if (next?.decoded.kind === 'ok' && next.decoded.record.seq === expected && next.decoded.record.prev === prevHash) {
    return at(e, 'inserted_record', `line is not part of the chain: the records around it link directly`);
  }
  const restInvalid = entries.slice(i).every((x) => x.decoded.kind !== 'ok');
  if (restInvalid && !looksLikeRecord) return at(e, 'garbage_appended', `data that is not an audit record after the last record`);
  const seq = guessSeq(e);
  return at(e, 'modified_record', `record ${seq !== undefined ? `seq ${seq} ` : ''}does not match its hash (${e.decoded.kind})`, seq);
}

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
  return { summary: { status, seq: cp.seq, file: cp.file, ts: cp.ts, ...(cp.keyId ? { keyId: cp.keyId } : {}) } };
}

/**
 * The chain records the checkpoint does not vouch for: those after its seq when it matched,
 * all of them otherwise; warned about (at the first of them) only when there is a checkpoint,
 * and `no_checkpoint` when there is none.
 */
function coverageOf(walk: WalkResult, summary: VerifyReport['checkpoint']): { uncovered: number; warnings: VerifyProblem[] } {
  const matched = summary.status === 'ok' || summary.status === 'signed';
  const after = [...walk.hashBySeq.keys()].filter((seq) => !matched || seq > (summary.seq ?? 0)).sort((a, b) => a - b);
  if (summary.status === 'none') {
    const message = 'no checkpoint: records cut off the end of the log, or edited and re-hashed up to its end, cannot be detected';
    return { uncovered: after.length, warnings: [{ code: 'no_checkpoint', file: '', line: 0, message }] };
  }
  const first = walk.entryBySeq.get(after[0] ?? -1);
  if (!matched || !first) return { uncovered: after.length, warnings: [] };
  const message = `${after.length} record(s) after the checkpoint (seq ${after[0]}..${after.at(-1)}) are covered by the hash chain only: cut off, or edited and re-hashed, they would not be detected`;
  return { uncovered: after.length, warnings: [{ code: 'uncovered_records', file: first.file, line: first.line, seq: after[0] as number, message }] };
}
