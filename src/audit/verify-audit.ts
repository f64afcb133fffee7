import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, decodeRecord, type AuditRecord, type DecodeResult } from './record-codec.js';
import type { Checkpoint } from './checkpoint.js';
import { checkCheckpoint } from './verify-checkpoint.js';

/** Stable problem codes of `warden audit verify` (documented in docs/readme/audit.md). */
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
  | 'unreadable_file';

export interface VerifyProblem {
  readonly code: VerifyCode;
  readonly file: string;
  /** 1-based line number in `file` (0 when the problem is about the checkpoint or the set). */
  readonly line: number;
  readonly seq?: number;
  readonly message: string;
}

export interface VerifyReport {
  /** True when no problem was found (a torn tail alone is a warning). */
  readonly ok: boolean;
  readonly records: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly files: readonly { file: string; firstSeq: number | null; lastSeq: number | null; lines: number }[];
  readonly problem?: VerifyProblem;
  readonly warnings: readonly VerifyProblem[];
  readonly checkpoint: { status: 'none' | 'ok' | 'signed' | 'failed'; seq?: number; file?: string; keyId?: string };
}

export interface VerifyOptions {
  /** Checkpoint file path or an already parsed checkpoint. */
  readonly checkpoint?: string | Checkpoint;
  /** Ed25519 public key (PEM path or KeyObject): the checkpoint must carry a valid signature. */
  readonly publicKey?: string | KeyObject;
}

export interface Entry {
  readonly file: string;
  readonly line: number;
  readonly raw: string;
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
  const text = readFileSync(file, 'utf8');
  const parts = text.split('\n');
  const endsClean = parts.at(-1) === '';
  if (endsClean) parts.pop();
  return parts.map((raw, i) => ({
    file,
    line: i + 1,
    raw,
    terminated: endsClean || i < parts.length - 1,
    decoded: decodeRecord(raw),
    fileStart: i === 0,
  }));
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
export function verifyAuditFiles(files: readonly string[], options: VerifyOptions = {}): VerifyReport {
  const sets: Entry[][] = [];
  for (const f of files) {
    try {
      sets.push(readEntries(f));
    } catch (err) {
      const problem: VerifyProblem = { code: 'unreadable_file', file: f, line: 0, message: `cannot read ${f}: ${(err as Error).message}` };
      return { ok: false, records: 0, lastSeq: 0, lastHash: GENESIS_HASH, files: [], problem, warnings: [], checkpoint: { status: 'none' } };
    }
  }
  const ordered = orderFiles(sets);
  const entries = ordered.flat();
  const walk = walkChain(entries, ordered.length > 1);
  const summaries = ordered.map((es, i) => summarize(es, files, sets, i));
  let problem = walk.problem;
  const cp = checkCheckpoint(walk, entries, options);
  if (!problem && cp.problem) problem = cp.problem;
  return {
    ok: problem === undefined,
    records: walk.records,
    lastSeq: walk.lastSeq,
    lastHash: walk.lastHash,
    files: summaries,
    ...(problem ? { problem } : {}),
    warnings: walk.warnings,
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
    ...(problem ? { problem } : {}), warnings, records: hashBySeq.size, lastSeq: expected - 1, lastHash: prevHash, hashBySeq, lastEntry: last,
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
  // A gap of one record at a file start is a deleted line; a larger one is a missing rotated file.
  if (e.fileStart && s.multiFile && missing > 1) {
    return at(e, 'missing_file', `file starts at seq ${r.seq} but seq ${s.expected} was expected: ${missing} record(s) in a missing file`, r.seq);
  }
  return at(e, 'deleted_record', `seq ${s.expected}${missing > 1 ? `..${r.seq - 1}` : ''} missing before seq ${r.seq}`, s.expected);
}

/** A line that is not a valid record: torn tail, garbage after the end, an insert, or a modification. */
function badLine(entries: readonly Entry[], i: number, expected: number, prevHash: string): VerifyProblem {
  const e = entries[i] as Entry;
  const isLast = i === entries.length - 1;
  const looksLikeRecord = e.decoded.kind === 'bad_hash' || e.raw.includes('"hash":"') || e.raw.includes('"prev":"');
  if (isLast && !e.terminated && (e.raw.startsWith('{') || e.raw === '')) {
    return at(e, 'torn_tail', `last line is incomplete (${Buffer.byteLength(e.raw)} bytes): a write cut off by a crash`);
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
