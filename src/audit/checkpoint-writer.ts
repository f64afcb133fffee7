import { rename } from 'node:fs/promises';
import { openTempExclusiveAsync } from '../core/exclusive-temp.js';
import { writeCheckpointFile, type Checkpoint } from './checkpoint.js';

/**
 * Writes the audit checkpoint (an atomic replace: temporary file, then rename) either now
 * (start-up, close) or in the background (every `everyRecords` records, rotation). A replace by
 * rename costs hundreds of microseconds on ext4 (it flushes the new file's data first) and used
 * to block the event loop every ~200 calls; in the background it overlaps with the calls.
 *
 * Background writes run one at a time and each takes the state when it starts, so checkpoints on
 * disk only move forward; a request while one runs is folded into one more write after it. The
 * records are always written before the checkpoint that covers them is even computed, so a
 * checkpoint is never ahead of the log. `stop()` ends the background and hands back the write in
 * progress, so the closing checkpoint written after it is the last word.
 */
export class CheckpointWriter {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly durable: () => boolean,
    /** The checkpoint of the state now (signed when configured). */
    private readonly current: () => Checkpoint,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Writes `cp` synchronously; only when nothing runs in the background (start-up, after stop()). */
  writeNow(cp: Checkpoint): void {
    writeCheckpointFile(this.path, cp, this.durable());
  }

  /** Schedules a background write of the state as it is when the write starts. */
  soon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves once no background write runs (including one folded in while waiting). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops background writes; returns the one still in progress to wait for, if any. */
  stop(): Promise<void> | undefined {
    this.stopped = true;
    return this.running;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await writeCheckpointFileAsync(this.path, this.current(), this.durable());
      } while (this.again && !this.stopped);
    } catch (err) {
      // The log itself is intact; a missing checkpoint weakens truncation detection only.
      this.onError(err);
    } finally {
      this.running = undefined;
    }
  }
}

/** writeCheckpointFile off the event loop, with its own temporary file (a synchronous write may use the other). */
async function writeCheckpointFileAsync(path: string, cp: Checkpoint, durable: boolean): Promise<void> {
  const tmp = `${path}.${process.pid}.bg.tmp`;
  const fh = await openTempExclusiveAsync(tmp, 0o644);
  try {
    await fh.writeFile(`${JSON.stringify(cp)}\n`);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
