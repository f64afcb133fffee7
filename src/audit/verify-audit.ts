import { GENESIS_HASH, decodeRecord } from './record-codec.js';
import { readLinesOf, type Line } from './line-stream.js';
import { closeLogs, openLogFiles, openLogSet, OpenLogError, type OpenLog } from './open-log-set.js';
import { checkCheckpoint, coverageWarnings, loadCheckpoint, signatureWarnings, uncoveredCount, type LoadedCheckpoint } from './verify-checkpoint.js';
import { classifyBreak, type ChainRecord } from './verify-classify.js';
import { ChainWalk, type UnvouchedRestart } from './verify-walk.js';
import { at, guessSeq, toEntry, type Entry, type FileSummary, type VerifyOptions, type VerifyProblem, type VerifyReport } from './verify-types.js';

export type { FileSummary, VerifyCode, VerifyOptions, VerifyProblem, VerifyReport } from './verify-types.js';

/** A log file that could not be read: the whole verification ends as `unreadable_file`. */
class UnreadableFile extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot read ${file}: ${(cause as Error).message}`);
  }
}

/** The lines of one opened file, from its start; a read error becomes UnreadableFile naming the file. */
function* linesOf(log: OpenLog, options: VerifyOptions): Generator<Line> {
  try {
    yield* readLinesOf(log.fd, log.file, options);
  } catch (err) {
    throw new UnreadableFile(log.file, err);
  }
}

function* entriesOf(log: OpenLog, options: VerifyOptions): Generator<Entry> {
  for (const l of linesOf(log, options)) yield toEntry(l);
}

/** The first seq a file claims, reading only up to the first line that claims one. */
function firstSeq(log: OpenLog, options: VerifyOptions): number {
  for (const e of entriesOf(log, options)) {
    const s = guessSeq(e);
    if (s !== undefined) return s;
  }
  return Number.MAX_SAFE_INTEGER;
}

/** Orders a set of opened files by the first sequence number they hold (files without records last). */
function orderFiles(logs: readonly OpenLog[], options: VerifyOptions): OpenLog[] {
  const keyed = logs.map((log) => ({ log, first: firstSeq(log, options) }));
  return keyed.sort((a, b) => a.first - b.first).map((k) => k.log);
}

/** One pass over the set in order: feeds the chain walk and counts each file's lines and seqs. */
function walkSet(ordered: readonly OpenLog[], walk: ChainWalk, options: VerifyOptions): { summaries: FileSummary[]; lastLineFile: string | undefined } {
  const summaries: FileSummary[] = [];
  let lastLineFile: string | undefined;
  for (const log of ordered) {
    const file = log.file;
    const s: FileSummary = { file, firstSeq: null, lastSeq: null, lines: 0 };
    for (const e of entriesOf(log, options)) {
      walk.push(e);
      s.lines += 1;
      const seq = guessSeq(e);
      if (seq !== undefined) {
        s.firstSeq ??= seq;
        s.lastSeq = seq;
      }
      lastLineFile = file;
    }
    summaries.push(s);
  }
  return { summaries, lastLineFile };
}

/**
 * The chain record with this seq, which lies before the break: every line there continues the
 * chain, so seq N is the Nth line of the ordered set. Reads the set again up to that line.
 */
function chainRecordAt(seq: number, ordered: readonly OpenLog[], summaries: readonly FileSummary[], options: VerifyOptions): ChainRecord {
  let index = seq - 1 - (options.anchor?.seq ?? 0);
  for (const [i, s] of summaries.entries()) {
    if (index < s.lines) {
      for (const l of linesOf(ordered[i] as OpenLog, options)) {
        if (l.line !== index + 1) continue;
        const d = l.tooLong ? undefined : decodeRecord(l.text);
        return { file: s.file, line: l.line, hash: d?.kind === 'ok' ? d.record.hash : undefined };
      }
      // The file got shorter since the walk: nothing there to compare with.
      return { file: s.file, line: index + 1, hash: undefined };
    }
    index -= s.lines;
  }
  return { file: '', line: 0, hash: undefined };
}

/**
 * Verifies a set of audit files (any order; sorted by first seq) and, optionally, the
 * checkpoint. Reports the first problem with a stable code. Streams the files: memory holds the
 * chain state and one line, not the set; classifying a problem may read parts of the set again.
 * With `options.anchor` the set may start after the chain's start (older files removed).
 */
export function verifyAuditFiles(files: readonly string[], options: VerifyOptions = {}): VerifyReport {
  // The checkpoint first, the files after: a checkpoint read before the log can never be ahead of it.
  const loaded = loadCheckpoint(options);
  return verifyOpened(() => openLogFiles(files), loaded, options);
}

/**
 * Verifies the rotated set of an active file (`warden audit verify` on one name). The set is
 * listed after the checkpoint was read, and opened so that a rotation at any moment leaves every
 * record in exactly one file read (openLogSet): a set listed earlier could name, as its active
 * file, a file a rotation had just started, and miss the file it rotated.
 */
export function verifyAuditSet(active: string, options: VerifyOptions = {}): VerifyReport {
  const loaded = loadCheckpoint(options);
  return verifyOpened(() => {
    const logs = openLogSet(active);
    if (logs.length === 0) throw new OpenLogError(active, Object.assign(new Error('no such audit file'), { code: 'ENOENT' }));
    return logs;
  }, loaded, options);
}

/**
 * Every file is opened before any is read and read through its descriptor only: a file renamed
 * meanwhile (a rotation of a live log) is still the file that was opened.
 */
function verifyOpened(open: () => OpenLog[], loaded: LoadedCheckpoint, options: VerifyOptions): VerifyReport {
  let logs: OpenLog[];
  try {
    logs = open();
  } catch (err) {
    if (!(err instanceof OpenLogError)) throw err;
    return unreadableReport(err.file, err.message, options);
  }
  try {
    return verifyStreaming(logs, loaded, options);
  } catch (err) {
    if (!(err instanceof UnreadableFile)) throw err;
    return unreadableReport(err.file, err.message, options);
  } finally {
    closeLogs(logs);
  }
}

function unreadableReport(file: string, message: string, options: VerifyOptions): VerifyReport {
  const problem: VerifyProblem = { code: 'unreadable_file', file, line: 0, message };
  const start = options.anchor ?? { seq: 0, hash: GENESIS_HASH };
  return { ok: false, records: 0, lastSeq: start.seq, lastHash: start.hash, files: [], problem, warnings: [], uncoveredRecords: 0, checkpoint: { status: 'none' }, ...(options.anchor ? { anchor: options.anchor } : {}) };
}

/**
 * Warden restarted on a log whose checkpoint was missing, unreadable, not signed by its key, or a
 * clean close's checkpoint behind the log's end: the checkpoints since vouch for records 1..seq-1
 * although nothing vouched for them when warden continued them (an edit made while it was
 * stopped would pass). A warning: deleting a checkpoint or turning signing on is also what an
 * operator does; the record in the chain says which.
 */
function restartWarnings(u: UnvouchedRestart | undefined): VerifyProblem[] {
  if (!u) return [];
  return [at(u, 'unvouched_restart', `warden restarted on records 1..${u.seq - 1} without a trustworthy checkpoint (${u.reasons.join(', ')}): the checkpoint since vouches for them, but an edit made to them before that restart would not be detected`, u.seq)];
}

function verifyStreaming(logs: readonly OpenLog[], loaded: LoadedCheckpoint, options: VerifyOptions): VerifyReport {
  const ordered = orderFiles(logs, options);
  const walk = new ChainWalk(loaded.kind === 'ok' ? loaded.cp.seq : undefined, options.anchor);
  const { summaries, lastLineFile } = walkSet(ordered, walk, options);
  const end = walk.end();
  const warnings: VerifyProblem[] = [];
  let problem: VerifyProblem | undefined;
  if (walk.break) {
    const issue = classifyBreak(walk.break, logs.length > 1, (seq) => chainRecordAt(seq, ordered, summaries, options));
    // A torn last line is what a crash leaves: a warning, unless the checkpoint says more existed.
    if (issue.code === 'torn_tail') warnings.push(issue);
    else problem = issue;
  }
  const lastFile = end.lastEntry?.file ?? lastLineFile;
  const anchorSeq = options.anchor?.seq ?? 0;
  const cp = checkCheckpoint(loaded, { lastSeq: end.lastSeq, lastFile, hashAtCheckpoint: end.hashAtCheckpoint, anchorSeq }, options);
  problem ??= cp.problem;
  // The writer found its log shorter than its checkpoint at a restart and went on (a power loss
  // with fsync off can do that, and so can a cut while it was stopped): records the checkpoint
  // vouched for are gone, and the checkpoints since vouch for the shorter log.
  const cut = end.cutBeforeRestart;
  if (cut) {
    problem ??= at(cut, 'truncated_tail', `warden restarted on a log cut short: its checkpoint said seq ${cut.checkpointSeq} but the log ended at seq ${cut.lastGoodSeq}, so record(s) ${cut.lastGoodSeq + 1}..${cut.checkpointSeq} were lost (audit.recovered, checkpoint_ahead)`, cut.seq);
  }
  if (!problem) warnings.push(...coverageWarnings(end.lastSeq, anchorSeq, cp.summary, end.afterCheckpoint), ...signatureWarnings(loaded, options), ...restartWarnings(end.unvouchedRestart));
  return {
    ok: problem === undefined,
    records: end.records,
    lastSeq: end.lastSeq,
    lastHash: end.lastHash,
    ...(options.anchor ? { anchor: options.anchor } : {}),
    files: summaries,
    ...(problem ? { problem } : {}),
    warnings,
    uncoveredRecords: uncoveredCount(end.lastSeq, anchorSeq, cp.summary),
    checkpoint: cp.summary,
  };
}
