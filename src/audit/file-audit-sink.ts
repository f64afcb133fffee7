import {
  closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { AuditEvent, AuditSink } from './audit-sink.js';
import type { AuditConfig } from './audit-config.js';
import { AuditCorruptError, AuditUnavailableError } from './audit-errors.js';
import { GENESIS_HASH, decodeRecord, encodeRecord } from './record-codec.js';
import { inspectTail, listRotated, readRange, rotatedName } from './log-files.js';
import { signCheckpoint, writeCheckpointFile, type Checkpoint } from './checkpoint.js';
import { fullDigest } from './redactor.js';
import type { FieldSerializer } from './record-codec.js';

/** How often the open file is checked against its path (unlinked or replaced). */
const CHECK_EVERY_RECORDS = 64;
const CHECK_EVERY_MS = 1000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

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
  readonly reason: 'write_failed' | 'file_removed' | 'file_replaced' | 'rotate_failed';
  readonly code: string;
  readonly message: string;
  readonly since: string;
  rejected: number;
}

interface Opened {
  fd: number;
  ino: number;
  dev: number;
  size: number;
  repaired: { discardedBytes: number; movedTo: string } | undefined;
  lastSeq: number | undefined;
  lastHash: string | undefined;
}

/**
 * Append-only, hash-chained JSON Lines audit sink. Every `record()` is one synchronous
 * `write(2)` (write-ahead: when it returns, the kernel has the bytes); failures make the sink
 * unhealthy and every later `record()` throws until a reopen after backoff succeeds.
 */
export class FileAuditSink implements AuditSink {
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
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: SinkDeps) {
    this.file = resolve(deps.config.file);
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
  start(previous: Checkpoint | undefined): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const opened = this.openActive();
      this.adopt(opened);
      if (opened.lastSeq === undefined) this.continueFromRotated();
      this.noteRestart(opened, previous);
      this.checkpoint();
    } catch (err) {
      clearInterval(this.timer);
      this.closeFd();
      throw err;
    }
  }

  /** Says in the chain itself what the previous run left behind (torn line, crash, truncation). */
  private noteRestart(opened: Opened, previous: Checkpoint | undefined): void {
    const reasons: string[] = [];
    if (opened.repaired) reasons.push('torn_tail');
    if (previous && previous.seq > this.seq) reasons.push('checkpoint_ahead');
    else if (previous && previous.closed !== true) reasons.push('unclean_shutdown');
    if (reasons.length === 0) return;
    const fields = {
      reason: reasons[0],
      reasons,
      lastGoodSeq: this.seq,
      ...(opened.repaired ?? {}),
      ...(previous ? { checkpointSeq: previous.seq, checkpointHash: previous.hash } : {}),
    };
    // Truncation is tampering or data loss: loud. A torn line or a crash is expected after SIGKILL.
    if (reasons.includes('checkpoint_ahead')) this.deps.logger.error({ file: this.file, ...fields }, 'audit: log ends before its checkpoint (truncated?)');
    else this.deps.logger.warn({ file: this.file, ...fields }, 'audit: continuing the chain after an unclean stop');
    this.record({ type: 'audit.recovered', ...fields });
  }

  record(event: AuditEvent): void {
    if (this.closed) throw new AuditUnavailableError('audit sink is closed');
    if (this.failure) this.recover();
    const { line, hash } = encodeRecord(this.prepare(event), { seq: this.seq + 1, ts: this.timestamp(), prev: this.prev }, this.deps.serialize);
    const length = Buffer.byteLength(line, 'utf8');
    try {
      if (++this.sinceCheck >= CHECK_EVERY_RECORDS) this.verifyPath();
      if (this.size > 0 && this.size + length > this.deps.config.maxFileBytes) this.rotate();
      this.writeAll(line, length);
      this.maybeFsync();
    } catch (err) {
      throw this.fail(err, 'write_failed');
    }
    this.size += length;
    this.seq += 1;
    this.prev = hash;
    if (++this.sinceCheckpoint >= this.deps.config.checkpoint.everyRecords) this.checkpoint();
  }

  /** Writes the checkpoint (last seq and hash, signed when a key is configured) atomically. */
  checkpoint(closed = false): Checkpoint {
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
    try {
      writeCheckpointFile(this.deps.checkpointPath, cp, this.deps.config.fsync !== 'never');
    } catch (err) {
      // The log itself is intact; a missing checkpoint weakens truncation detection only. Say so loudly.
      this.deps.logger.error({ err, file: this.deps.checkpointPath }, 'audit: checkpoint write failed');
    }
    return cp;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    if (!this.failure) {
      try {
        if (this.deps.config.fsync !== 'never') fsyncSync(this.fd);
      } catch (err) {
        this.deps.logger.error({ err, file: this.file }, 'audit: fsync on close failed');
      }
      this.checkpoint(true);
    }
    this.closed = true;
    this.closeFd();
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

  /** Adds digests of the full arguments and result (redaction happens while serialising). */
  private prepare(event: AuditEvent): Readonly<Record<string, unknown>> {
    const needArgs = event.args !== undefined && event.argsDigest === undefined;
    const needResult = event.result !== undefined && event.resultDigest === undefined;
    if (!needArgs && !needResult) return event;
    // Digests are of the full values, so two calls can be compared without revealing content.
    const out: Record<string, unknown> = { ...event };
    if (needArgs) out.argsDigest = fullDigest(event.args);
    if (needResult) out.resultDigest = fullDigest(event.result);
    return out;
  }

  /** One write(2) in the normal case; a short write (legal, e.g. near a full disk) continues. */
  private writeAll(line: string, length: number): void {
    const n = writeSync(this.fd, line);
    if (n === length) return;
    const bytes = Buffer.from(line, 'utf8');
    let off = n;
    while (off < length) off += writeSync(this.fd, bytes, off, length - off);
  }

  private maybeFsync(): void {
    const policy = this.deps.config.fsync;
    if (policy === 'never') return;
    if (policy === 'always' || ++this.sinceFsync >= policy.everyRecords) {
      fsyncSync(this.fd);
      this.sinceFsync = 0;
    }
  }

  /** Throws when the open file is no longer the file at the path (removed, moved, replaced). */
  private verifyPath(): void {
    this.sinceCheck = 0;
    const st = fstatSync(this.fd);
    if (st.nlink === 0) throw Object.assign(new Error('audit file was removed'), { code: 'file_removed' });
    let at;
    try {
      at = statSync(this.file);
    } catch {
      throw Object.assign(new Error('audit file was removed'), { code: 'file_removed' });
    }
    if (at.ino !== this.ino || at.dev !== this.dev) {
      throw Object.assign(new Error('audit file was replaced'), { code: 'file_replaced' });
    }
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
    let opened: Opened;
    try {
      this.closeFd();
      opened = this.openActive();
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
    this.failure = undefined;
    this.backoffMs = BACKOFF_MIN_MS;
    this.deps.logger.error({ file: this.file, reason: failure.reason }, 'audit sink recovered');
    this.record({
      type: 'audit.recovered',
      reason: failure.reason,
      errorCode: failure.code,
      error: failure.message,
      unavailableSince: failure.since,
      rejectedRecords: failure.rejected,
      fileLastSeq: opened.lastSeq ?? null,
      ...(opened.repaired ?? {}),
    });
  }

  private adopt(o: Opened): void {
    this.fd = o.fd;
    this.ino = o.ino;
    this.dev = o.dev;
    this.size = o.size;
    this.sinceCheck = 0;
    if (o.lastSeq !== undefined && o.lastHash !== undefined) {
      this.seq = o.lastSeq;
      this.prev = o.lastHash;
    }
  }

  /** Opens the active path for append after cutting off (and saving) a torn last line. */
  private openActive(): Opened {
    const fd = openSync(this.file, 'a+', 0o640);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { fd, ino: st.ino, dev: st.dev, size: 0, repaired: undefined, lastSeq: undefined, lastHash: undefined };
      const tail = inspectTail(fd);
      let repaired: Opened['repaired'];
      if (tail.tornBytes > 0) {
        const movedTo = `${this.file}.torn-${Date.now()}`;
        writeFileSync(movedTo, readRange(fd, tail.goodEnd, tail.size), { mode: 0o640 });
        ftruncateSync(fd, tail.goodEnd);
        repaired = { discardedBytes: tail.tornBytes, movedTo };
      }
      const last = tail.lastLine === undefined ? undefined : decodeRecord(tail.lastLine);
      if (last && last.kind !== 'ok') {
        // Continuing after a record we cannot vouch for would launder tampering into a valid chain.
        throw new AuditCorruptError(`${this.file}: last complete line is not a valid audit record (${last.kind}); run 'warden audit verify'`);
      }
      const record = last?.kind === 'ok' ? last.record : undefined;
      return { fd, ino: st.ino, dev: st.dev, size: tail.goodEnd, repaired, lastSeq: record?.seq, lastHash: record?.hash };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** An empty active file after rotation: the chain continues from the newest rotated file. */
  private continueFromRotated(): void {
    const newest = listRotated(this.file).at(-1);
    if (!newest) return;
    const fd = openSync(newest.path, 'r');
    try {
      const line = inspectTail(fd).lastLine;
      const last = line === undefined ? undefined : decodeRecord(line);
      if (last?.kind === 'ok') {
        this.seq = last.record.seq;
        this.prev = last.record.hash;
      } else if (last) {
        throw new AuditCorruptError(`${newest.path}: last line is not a valid audit record (${last.kind})`);
      }
    } finally {
      closeSync(fd);
    }
  }

  private rotate(): void {
    const index = (listRotated(this.file).at(-1)?.index ?? 0) + 1;
    if (this.deps.config.fsync !== 'never') fsyncSync(this.fd);
    const rotated = rotatedName(this.file, index);
    renameSync(this.file, rotated);
    this.lastFile = rotated;
    this.closeFd();
    const fd = openSync(this.file, 'a', 0o640);
    const st = fstatSync(fd);
    this.fd = fd;
    this.ino = st.ino;
    this.dev = st.dev;
    this.size = 0;
    this.checkpoint();
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
