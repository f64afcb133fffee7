import { statSync } from 'node:fs';

/** Quiet for this long: a read that finishes sooner shows no progress at all. */
export const PROGRESS_AFTER_MS = 1_000;
/** How often the progress line is redrawn. */
export const PROGRESS_EVERY_MS = 250;

const CLEAR_LINE = '\r\x1b[2K';

export interface ReadProgress {
  /** Called with the bytes of each read (LineStreamOptions.onRead). */
  readonly onRead: (bytes: number) => void;
  /** Clears the progress line, if one was drawn; call before printing the result. */
  readonly done: () => void;
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(0)} MiB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(1)} GiB`;
}

/**
 * "verifying: 512 MiB of 1.2 GiB (42%)" on stderr while a long read of audit files runs, so an
 * operator running `audit verify` (or query, stats, show) on a large rotated set sees it is
 * working. Only on a terminal (a pipe or a log file gets no progress text), only once the read
 * has taken PROGRESS_AFTER_MS, and cleared before the result is printed. The total is the files'
 * sizes when the read starts; a reader that reads some parts twice (verify classifying a break)
 * or a live log that grows is shown as at most 99% until done.
 */
export function readProgress(
  stderr: NodeJS.WritableStream & { isTTY?: boolean },
  label: string,
  files: readonly string[],
  clock: () => number = Date.now,
): ReadProgress {
  if (stderr.isTTY !== true) return { onRead: () => undefined, done: () => undefined };
  let total = 0;
  for (const f of files) {
    try {
      total += statSync(f).size;
    } catch {
      // An unreadable file is reported by the reader itself.
    }
  }
  const started = clock();
  let nextDraw = started + PROGRESS_AFTER_MS;
  let read = 0;
  let drawn = false;
  return {
    onRead: (bytes) => {
      read += bytes;
      const now = clock();
      if (now < nextDraw) return;
      nextDraw = now + PROGRESS_EVERY_MS;
      const pct = total > 0 ? Math.min(99, Math.floor((read / total) * 100)) : undefined;
      stderr.write(`${CLEAR_LINE}${label}: ${size(read)}${total > 0 ? ` of ${size(total)} (${pct}%)` : ''}`);
      drawn = true;
    },
    done: () => {
      if (drawn) stderr.write(CLEAR_LINE);
      drawn = false;
    },
  };
}
