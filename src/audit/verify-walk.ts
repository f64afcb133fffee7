import { GENESIS_HASH, type AuditRecord } from './record-codec.js';
import type { ChainAnchor, Entry, Place } from './verify-types.js';

/**
 * The first line that does not continue the chain, with what the lines after it say: all that
 * classifying it needs, gathered in the same pass instead of by holding the set.
 */
export interface ChainBreak {
  readonly entry: Entry;
  /** Seq and prev hash the chain expected at this line. */
  readonly expected: number;
  readonly prevHash: string;
  /** The last record that continued the chain. */
  readonly last: Place | undefined;
  /** Lines after the break (0: it is the last line of the set). */
  following: number;
  /** The line right after the break, when it is a valid record. */
  next: { readonly seq: number; readonly prev: string } | undefined;
  /** No line after the break is a valid record. */
  restInvalid: boolean;
  /** Valid records after the break with the same hash as a breaking record. */
  sameHashLater: number;
  /** First valid record after a breaking record whose seq falls in the gap it left. */
  laterInGap: (Place & { readonly seq: number }) | undefined;
}

export interface ChainEnd {
  /** Records that continue the chain from its start (or the anchor). */
  readonly records: number;
  /** The last good seq (the anchor's seq when no record continued it). */
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly lastEntry: Place | undefined;
  /** Hash of the chain record at the checkpoint's seq, when the chain reached it. */
  readonly hashAtCheckpoint: string | undefined;
  /** Where the chain record right after the checkpoint's seq is, when the chain reached it. */
  readonly afterCheckpoint: Place | undefined;
  /** The first restart on a log shorter than its checkpoint (`audit.recovered`, `checkpoint_ahead`). */
  readonly cutBeforeRestart: CutBeforeRestart | undefined;
  /** The first restart that continued records no trustworthy checkpoint vouched for. */
  readonly unvouchedRestart: UnvouchedRestart | undefined;
}

/** Reasons of an `audit.recovered` that say no trustworthy checkpoint vouched for the log then. */
const UNVOUCHED = new Set(['checkpoint_missing', 'checkpoint_unreadable', 'checkpoint_unsigned', 'checkpoint_behind']);

/** Warden continued records 1..seq-1 without a trustworthy checkpoint: the chain says so itself. */
export interface UnvouchedRestart extends Place {
  readonly seq: number;
  readonly reasons: readonly string[];
}

function unvouchedRestart(e: Entry, r: AuditRecord): UnvouchedRestart | undefined {
  if (!Array.isArray(r.reasons)) return undefined;
  const reasons = r.reasons.filter((x): x is string => typeof x === 'string' && UNVOUCHED.has(x));
  return reasons.length > 0 ? { file: e.file, line: e.line, seq: r.seq, reasons } : undefined;
}

/** Records a checkpoint vouched for were gone when warden restarted: the chain says so itself. */
export interface CutBeforeRestart extends Place {
  readonly seq: number;
  readonly lastGoodSeq: number;
  readonly checkpointSeq: number;
}

/** The `audit.recovered` record of a restart on a log cut short, as a CutBeforeRestart. */
function cutBeforeRestart(e: Entry, r: AuditRecord): CutBeforeRestart | undefined {
  if (r.type !== 'audit.recovered' || !Array.isArray(r.reasons) || !r.reasons.includes('checkpoint_ahead')) return undefined;
  const lastGoodSeq = typeof r.lastGoodSeq === 'number' ? r.lastGoodSeq : r.seq - 1;
  const checkpointSeq = typeof r.checkpointSeq === 'number' ? r.checkpointSeq : lastGoodSeq + 1;
  return { file: e.file, line: e.line, seq: r.seq, lastGoodSeq, checkpointSeq };
}

/**
 * Walks the chain one line at a time in set order, holding only the chain state (expected seq,
 * prev hash, last good record) and the hash at the checkpoint's seq; after the first break it
 * keeps only the facts ChainBreak lists.
 */
export class ChainWalk {
  private expected: number;
  private prevHash: string;
  private last: Place | undefined;
  private hashAtCheckpoint: string | undefined;
  private afterCheckpoint: Place | undefined;
  private brk: ChainBreak | undefined;
  private cut: CutBeforeRestart | undefined;
  private unvouched: UnvouchedRestart | undefined;

  /** `start`: the anchor the set continues from (default: the chain's start). */
  constructor(
    private readonly checkpointSeq: number | undefined,
    private readonly start: ChainAnchor = { seq: 0, hash: GENESIS_HASH },
  ) {
    this.expected = start.seq + 1;
    this.prevHash = start.hash;
    // A checkpoint taken at the anchor's record vouches for the anchor itself.
    if (checkpointSeq === start.seq && start.seq > 0) this.hashAtCheckpoint = start.hash;
  }

  push(e: Entry): void {
    if (this.brk) return this.after(this.brk, e);
    if (e.decoded.kind === 'ok') {
      const r = e.decoded.record;
      if (r.seq === this.expected && r.prev === this.prevHash) {
        if (r.seq === this.checkpointSeq) this.hashAtCheckpoint = r.hash;
        this.prevHash = r.hash;
        this.expected += 1;
        this.last = { file: e.file, line: e.line };
        if (r.seq === (this.checkpointSeq ?? -2) + 1) this.afterCheckpoint = this.last;
        if (r.type === 'audit.recovered') {
          this.cut ??= cutBeforeRestart(e, r);
          this.unvouched ??= unvouchedRestart(e, r);
        }
        return;
      }
    }
    this.brk = {
      entry: e, expected: this.expected, prevHash: this.prevHash, last: this.last,
      following: 0, next: undefined, restInvalid: true, sameHashLater: 0, laterInGap: undefined,
    };
  }

  get break(): ChainBreak | undefined {
    return this.brk;
  }

  end(): ChainEnd {
    return { records: this.expected - 1 - this.start.seq, lastSeq: this.expected - 1, lastHash: this.prevHash, lastEntry: this.last, hashAtCheckpoint: this.hashAtCheckpoint, afterCheckpoint: this.afterCheckpoint, cutBeforeRestart: this.cut, unvouchedRestart: this.unvouched };
  }

  private after(b: ChainBreak, e: Entry): void {
    const r = e.decoded.kind === 'ok' ? e.decoded.record : undefined;
    if (b.following === 0 && r) b.next = { seq: r.seq, prev: r.prev };
    b.following += 1;
    if (!r) return;
    b.restInvalid = false;
    const broken = b.entry.decoded.kind === 'ok' ? b.entry.decoded.record : undefined;
    if (broken) this.compare(b, broken, e, r);
  }

  /** Facts about a later record relative to a breaking record. */
  private compare(b: ChainBreak, broken: AuditRecord, e: Entry, r: AuditRecord): void {
    if (r.hash === broken.hash) b.sameHashLater += 1;
    if (b.laterInGap === undefined && r.seq >= b.expected && r.seq < broken.seq) {
      b.laterInGap = { file: e.file, line: e.line, seq: r.seq };
    }
  }
}
