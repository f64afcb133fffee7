import { closeSync, constants, fstatSync, fsyncSync, openSync } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { AuditEvent } from './audit-sink.js';
import type { BatchingAuditSink } from './batch-audit.js';
import type { AuditConfig } from './audit-config.js';
import { AuditUnavailableError } from './audit-errors.js';
import { GENESIS_HASH, encodeRecord } from './record-codec.js';
import { listRotated } from './log-files.js';
import { moveToRotatedName } from './rotate-file.js';
import { assertCheckpointInLog, assertStillAtPath, cutBack, lastOfRotated, openActiveFile, restartNote, trustedCheckpoint, writeFully, type OpenedFile, type PreviousCheckpoint } from './active-file.js';
import { signCheckpoint, type Checkpoint } from './checkpoint.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import { withDigests } from './redactor.js';
import type { FieldSerializer } from './record-codec.js';
import { acquireWriterLock, releaseWriterLock } from './writer-lock.js';
import { makeDirectories } from '../core/make-directories.js';

/** `open(2)` flags of the active file a rotation starts: append-only, created new (O_EXCL), non-blocking. */
const NEW_ACTIVE_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NONBLOCK;
/** How often the open file is checked against its path (unlinked or replaced). */
const CHECK_EVERY_RECORDS = 64;
const CHECK_EVERY_MS = 1000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
/** Default for `checkpoint.maxDelayMs`: how long written records may stay outside the checkpoint. */
export const DEFAULT_CHECKPOINT_DELAY_MS = 1000;

/** The two log levels the sink uses; a pino Logger fits. */
export interface AuditLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SinkDeps {
  readonly config: AuditConfig;
  readonly logger: AuditLogger;
  readonly clock: Clock;
  readonly checkpointPath: string;
  readonly signingKey: KeyObject | undefined;
  /** Redacts and canonicalises one top-level field (createCanonicalRedactor). */
  readonly serialize: FieldSerializer;
}

interface Failure {
  readonly reason: 'write_failed' | 'file_removed' | 'file_replaced';
  readonly code: string;
  readonly message: string;
  readonly since: string;
  rejected: number;
}

/**
 * Append-only, hash-chained JSON Lines audit sink. Every `record()` is one synchronous
 * `write(2)` (write-ahead: when it returns, the kernel has the bytes); failures make the sink
 * unhealthy and every later `record()` throws until a reopen after backoff succeeds.
 */
export class FileAuditSink implements BatchingAuditSink {
  readonly file: string;
  private fd = -1;
  private ino = 0;
  private dev = 0;
  private size = 0;
  private seq = 0;
  private prev = GENESIS_HASH;
  private sinceCheck = 0;
  private sinceCheckpoint = 0;
  private sinceFsync = 0;
  private failure: Failure | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private retryAt = 0;
  private closed = false;
  private tsMs = Number.NaN;
  private tsText = '';
  /** Set on rotation: the file holding the last record while the new active file is empty. */
  private lastFile: string | undefined;
  private lock = '';
  private readonly timer: NodeJS.Timeout;
  /** Armed by the first record the checkpoint does not cover; cleared by every checkpoint. */
  private checkpointTimer: NodeJS.Timeout | undefined;
  private readonly checkpoints: CheckpointWriter;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: SinkDeps) {
    this.file = resolve(deps.config.file);
    this.checkpoints = new CheckpointWriter(
      deps.checkpointPath,
      () => deps.config.fsync !== 'never',
      () => {
        this.flushForCheckpoint();
        return this.checkpointNow(false);
      },
      (err) => deps.logger.error({ err, file: deps.checkpointPath }, 'audit: checkpoint write failed'),
    );
    this.timer = setInterval(() => this.checkFile(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Last sequence number written (0 before the first record). */
  get lastSeq(): number {
    return this.seq;
  }

  get lastHash(): string {
    return this.prev;
  }

  healthy(): boolean {
    return !this.closed && this.failure === undefined;
  }

  /** Opens the file, repairs a torn tail and continues the chain. Called once by openAuditSink. */
  start(prior: PreviousCheckpoint): void {
    const previous = trustedCheckpoint(prior);
    makeDirectories(dirname(this.file));
    this.lock = acquireWriterLock(this.file);
    try {
      const opened = openActiveFile(this.file);
      this.adopt(opened);
      if (opened.lastSeq === undefined) {
        // An empty active file after rotation: the chain continues from the newest rotated file.
        const last = lastOfRotated(this.file);
        if (last) {
          this.seq = last.seq;
          this.prev = last.hash;
        }
      }
      if (previous) assertCheckpointInLog(this.file, previous, this.seq, this.prev, this.deps.checkpointPath);
      // A previous run that crashed may have left its last records in the page cache only: the
      // start-up checkpoint covers them, so they are flushed first (flushForCheckpoint).
      if (opened.size > 0) this.sinceFsync = 1;
      this.noteRestart(opened, prior);
      this.checkpoint();
    } catch (err) {
      clearInterval(this.timer);
      clearTimeout(this.checkpointTimer);
      this.closeFd();
      releaseWriterLock(this.lock);
      throw err;
    }
  }

  /** Says in the chain itself what the previous run left behind (torn line, crash, truncation). */
  private noteRestart(opened: OpenedFile, prior: PreviousCheckpoint): void {
    const note = restartNote(opened, prior, this.seq);
    if (!note) return;
    // Truncation is tampering or data loss: loud. A torn line or a crash is expected after SIGKILL.
    if (note.reasons.includes('checkpoint_ahead')) this.deps.logger.error({ file: this.file, ...note }, 'audit: log ends before its checkpoint (truncated?)');
    else if (note.reasons.some((r) => r.startsWith('checkpoint_'))) {
      this.deps.logger.error({ file: this.file, ...note }, 'audit: no trustworthy checkpoint vouches for the log being continued; run warden audit verify');
    }
    else this.deps.logger.warn({ file: this.file, ...note }, 'audit: continuing the chain after an unclean stop');
    this.record({ type: 'audit.recovered', ...note });
  }

  record(event: AuditEvent): void {
    if (this.closed) throw new AuditUnavailableError('audit sink is closed');
    if (this.failure) this.recover();
    const { line, hash } = encodeRecord(withDigests(event), { seq: this.seq + 1, ts: this.timestamp(), prev: this.prev }, this.deps.serialize);
    this.append(line, 1, hash);
  }

  /**
   * Appends several records, chained in order, with ONE `write(2)` (the steps of a call that are
   * written ahead together). All-or-nothing for the chain state: when it throws, seq and prev are
   * unchanged and the sink is unhealthy; a crash mid-write leaves at most a torn last line, which
   * the next start cuts off like any torn record.
   */
  recordBatch(events: readonly AuditEvent[]): void {
    if (events.length === 1) return this.record(events[0] as AuditEvent);
    if (events.length === 0) return;
    if (this.closed) throw new AuditUnavailableError('audit sink is closed');
    if (this.failure) this.recover();
    const ts = this.timestamp();
    let seq = this.seq;
    let prev = this.prev;
    let text = '';
    for (const event of events) {
      const encoded = encodeRecord(withDigests(event), { seq: ++seq, ts, prev }, this.deps.serialize);
      text += encoded.line;
      prev = encoded.hash;
    }
    this.append(text, events.length, prev);
  }

  /** Writes `count` encoded records (one string) and advances the chain to `lastHash`. */
  private append(text: string, count: number, lastHash: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    try {
      this.sinceCheck += count;
      if (this.sinceCheck >= CHECK_EVERY_RECORDS) this.verifyPath();
      if (this.size > 0 && this.size + length > this.deps.config.maxFileBytes) this.rotate();
      writeFully(this.fd, text, length);
      this.maybeFsync(count);
    } catch (err) {
      // Nothing of a failed write may stay: the chain in memory did not advance (see cutBack).
      if (this.fd >= 0) cutBack(this.fd, this.size);
      throw this.fail(err, 'write_failed');
    }
    this.size += length;
    this.seq += count;
    this.prev = lastHash;
    this.sinceCheckpoint += count;
    if (this.sinceCheckpoint >= this.deps.config.checkpoint.everyRecords) {
      // In the background: the records it covers are written already, so it can never be ahead.
      this.sinceCheckpoint = 0;
      this.checkpoints.soon();
    } else if (this.checkpointTimer === undefined) this.armCheckpointTimer();
  }

  /**
   * Records after the checkpoint are covered by the chain only (re-hashable to the end, or cut
   * off, undetected), so the checkpoint also follows in time: at most `maxDelayMs` after the
   * first uncovered record. A timer, not the call path: one background write + rename per
   * period at most.
   */
  private armCheckpointTimer(): void {
    const delay = this.deps.config.checkpoint.maxDelayMs ?? DEFAULT_CHECKPOINT_DELAY_MS;
    if (delay === 0) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      // Unhealthy: the chain state may not be on disk; the recovery record re-arms the timer.
      if (!this.closed && !this.failure && this.sinceCheckpoint > 0) this.checkpoints.soon();
    }, delay);
    this.checkpointTimer.unref();
  }

  /**
   * Resolves when the periodic checkpoint (every `everyRecords`, and `maxDelayMs` after the first
   * uncovered record) written in the background is on disk. For tests and tools that read the
   * checkpoint of a running sink.
   */
  checkpointSettled(): Promise<void> {
    return this.checkpoints.settled();
  }

  /** Writes the checkpoint (last seq and hash, signed when a key is configured) atomically, now. */
  checkpoint(closed = false): Checkpoint {
    const cp = this.checkpointNow(closed);
    try {
      this.flushForCheckpoint();
      this.checkpoints.writeNow(cp);
    } catch (err) {
      // The log itself is intact; a missing checkpoint weakens truncation detection only. Say so loudly.
      this.deps.logger.error({ err, file: this.deps.checkpointPath }, 'audit: checkpoint write failed');
    }
    return cp;
  }

  /**
   * With fsync on, the records a checkpoint covers are flushed before it is written: the
   * checkpoint is fsynced and renamed into place on its own (at least once a second), and with
   * `everyRecords: N` it covered up to N-1 records still only in the page cache. After a power
   * loss it named records the log no longer had: `checkpoint_ahead` at the next start, and verify
   * failed the log (truncated_tail) for good over the N-1 records the setting allows to lose.
   * One fsync per checkpoint, none per call; none when every write is flushed (`always`).
   * Throws when the flush fails: that checkpoint is not written.
   */
  private flushForCheckpoint(): void {
    if (this.deps.config.fsync === 'never' || this.sinceFsync === 0 || this.fd < 0 || this.failure) return;
    fsyncSync(this.fd);
    this.sinceFsync = 0;
  }

  /** The checkpoint of the chain as it is now. */
  private checkpointNow(closed: boolean): Checkpoint {
    let cp: Checkpoint = {
      v: 1,
      file: basename(this.size === 0 && this.lastFile ? this.lastFile : this.file),
      seq: this.seq,
      hash: this.prev,
      ts: new Date(this.deps.clock()).toISOString(),
      closed,
    };
    if (this.deps.signingKey) cp = signCheckpoint(cp, this.deps.signingKey);
    this.sinceCheckpoint = 0;
    // Whoever computes a checkpoint (now, or a background write as it starts) covers what the
    // timer was armed for.
    if (this.checkpointTimer !== undefined) {
      clearTimeout(this.checkpointTimer);
      this.checkpointTimer = undefined;
    }
    return cp;
  }

  close(): Promise<void> {
    // A second close while the first waits for the background checkpoint waits for the same end.
    if (this.closing) return this.closing;
    // Nothing in the background: closed before close() returns, as a synchronous close would be.
    // Else a background checkpoint still running would land after the closing one: wait for it.
    const drained = this.checkpoints.stop();
    this.closing = drained ? drained.then(() => this.finishClose()) : new Promise<void>((done) => done(this.finishClose()));
    return this.closing;
  }

  private finishClose(): void {
    if (this.closed) return;
    clearInterval(this.timer);
    // The final checkpoint below covers everything: the pending timed one is not needed.
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (!this.failure) {
      try {
        if (this.deps.config.fsync !== 'never') fsyncSync(this.fd);
        this.sinceFsync = 0;
      } catch (err) {
        this.deps.logger.error({ err, file: this.file }, 'audit: fsync on close failed');
      }
      this.checkpoint(true);
    }
    this.closed = true;
    this.closeFd();
    if (this.lock) releaseWriterLock(this.lock);
  }

  /** ISO time of now; many records share a millisecond, so the string is reused. */
  private timestamp(): string {
    const now = this.deps.clock();
    if (now !== this.tsMs) {
      this.tsMs = now;
      this.tsText = new Date(now).toISOString();
    }
    return this.tsText;
  }


  /** `count` records were just written: fsync per write for `always`, else per `everyRecords`. */
  private maybeFsync(count: number): void {
    const policy = this.deps.config.fsync;
    if (policy === 'never') return;
    this.sinceFsync += count;
    if (policy === 'always' || this.sinceFsync >= policy.everyRecords) {
      fsyncSync(this.fd);
      this.sinceFsync = 0;
    }
  }

  /** Throws when the open file is no longer the file at the path (removed, moved, replaced). */
  private verifyPath(): void {
    this.sinceCheck = 0;
    assertStillAtPath(this.fd, this.file, this.ino, this.dev);
  }

  /** Timer tick: detect a removed/replaced file while idle, and retry a failed sink. */
  private checkFile(): void {
    if (this.closed) return;
    if (this.failure) {
      // Retry without waiting for a caller: one that checks healthy() before record() would
      // otherwise keep every call blocked forever.
      if (this.deps.clock() >= this.retryAt) {
        try {
          this.recover(false);
        } catch {
          // Still failing: fail() has logged it and set the next retry time.
        }
      }
      return;
    }
    if (this.fd < 0) return;
    try {
      this.verifyPath();
    } catch (err) {
      this.fail(err, 'write_failed');
    }
  }

  private fail(err: unknown, reason: Failure['reason']): AuditUnavailableError {
    const code = (err as NodeJS.ErrnoException)?.code ?? 'unknown';
    const message = err instanceof Error ? err.message : String(err);
    const specific = code === 'file_removed' || code === 'file_replaced' ? code : reason;
    if (!this.failure) {
      this.failure = { reason: specific, code, message, since: new Date(this.deps.clock()).toISOString(), rejected: 0 };
      this.deps.logger.error({ err, file: this.file, reason: specific }, 'AUDIT SINK UNAVAILABLE: every tool call is blocked until it recovers');
    }
    this.retryAt = this.deps.clock() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    return new AuditUnavailableError(`audit sink unavailable (${specific}: ${code})`, { cause: err });
  }

  /** Called while unhealthy (by record() or the timer): throws until the backoff passed and the path reopens. */
  private recover(forRecord = true): void {
    const failure = this.failure as Failure;
    if (this.deps.clock() < this.retryAt) {
      if (forRecord) failure.rejected += 1;
      throw new AuditUnavailableError(`audit sink unavailable (${failure.reason}: ${failure.code})`);
    }
    let opened: OpenedFile;
    const committed = { ino: this.ino, dev: this.dev, size: this.size };
    try {
      this.closeFd();
      opened = openActiveFile(this.file);
      // Same file, longer than what was committed: the cut after the failed write did not
      // happen. Records past `committed.size` were never counted; repeating their seqs would
      // break the chain, so they go now (refuse to recover if they cannot).
      if (opened.ino === committed.ino && opened.dev === committed.dev && opened.size > committed.size) {
        if (!cutBack(opened.fd, committed.size)) {
          closeSync(opened.fd);
          throw Object.assign(new Error('cannot cut uncommitted records off the audit log'), { code: 'EUNCOMMITTED' });
        }
        opened = { ...opened, size: committed.size, lastSeq: this.seq, lastHash: this.prev };
      }
    } catch (err) {
      if (forRecord) failure.rejected += 1;
      throw this.fail(err, failure.reason);
    }
    const seq = this.seq;
    const prev = this.prev;
    this.adopt(opened);
    // The in-memory chain is authoritative: what is in the reopened file may be older or nothing.
    this.seq = seq;
    this.prev = prev;
    const recovered: AuditEvent = {
      type: 'audit.recovered',
      reason: failure.reason,
      errorCode: failure.code,
      error: failure.message,
      unavailableSince: failure.since,
      rejectedRecords: failure.rejected,
      fileLastSeq: opened.lastSeq ?? null,
      ...(opened.repaired ?? {}),
      ...(opened.finishedRotation === undefined ? {} : { rotationFinished: basename(opened.finishedRotation) }),
    };
    // Written while still failed: if the reopened path cannot take it either (it now names a full
    // disk or /dev/full), the outage goes on with its first reason, start and count, and backoff
    // keeps growing. Clearing first made a second failure look like a new, shorter outage.
    const { line, hash } = encodeRecord(withDigests(recovered), { seq: this.seq + 1, ts: this.timestamp(), prev: this.prev }, this.deps.serialize);
    try {
      this.append(line, 1, hash);
    } catch (err) {
      if (forRecord) failure.rejected += 1;
      throw err;
    }
    this.failure = undefined;
    this.backoffMs = BACKOFF_MIN_MS;
    this.deps.logger.error({ file: this.file, reason: failure.reason }, 'audit sink recovered');
  }

  private adopt(o: OpenedFile): void {
    this.fd = o.fd;
    this.ino = o.ino;
    this.dev = o.dev;
    this.size = o.size;
    this.sinceCheck = 0;
    if (o.finishedRotation !== undefined) this.lastFile = o.finishedRotation;
    if (o.lastSeq !== undefined && o.lastHash !== undefined) {
      this.seq = o.lastSeq;
      this.prev = o.lastHash;
    }
  }

  private rotate(): void {
    if (this.deps.config.fsync !== 'never') fsyncSync(this.fd);
    // From one past the highest index listed; a name taken since (or planted) is skipped, never replaced.
    const rotated = moveToRotatedName(this.file, (listRotated(this.file).at(-1)?.index ?? 0) + 1);
    this.lastFile = rotated;
    this.closeFd();
    // The name was just moved away: created afresh, never opened as found. Something planted
    // there meanwhile (a FIFO would block this open, and then every write) fails the rotation,
    // and the recovery judges what is there (openActiveFile).
    const fd = openSync(this.file, NEW_ACTIVE_FLAGS, 0o640);
    const st = fstatSync(fd);
    this.fd = fd;
    this.ino = st.ino;
    this.dev = st.dev;
    this.size = 0;
    // Through the background writer: a synchronous write could be overtaken by one in flight.
    this.checkpoints.soon();
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already broken; nothing more to lose.
    }
    this.fd = -1;
  }
}
