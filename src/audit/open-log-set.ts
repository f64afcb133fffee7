import { closeSync, fstatSync } from 'node:fs';
import { openLogFile } from './line-stream.js';
import { listRotated } from './log-files.js';

/** A log file opened for reading: read through `fd`, named `file` in reports. */
export interface OpenLog {
  readonly file: string;
  readonly fd: number;
}

/** A file of the set that could not be opened (missing, unreadable, not a regular file). */
export class OpenLogError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}

function closeAll(logs: readonly OpenLog[]): void {
  for (const { fd } of logs) closeSync(fd);
}

/**
 * Opens every file in `files`, or none (the first failure closes those opened and throws
 * OpenLogError naming the file). Read through the descriptors, each file stays the one named
 * when it was opened: a rotation afterwards moves the active file's records to a rotated name
 * and starts a new file at the active name, and reading that name later would miss the records
 * moved (an intact live log reported as `missing_file`).
 */
export function openLogFiles(files: readonly string[]): OpenLog[] {
  const opened: OpenLog[] = [];
  for (const file of files) {
    try {
      opened.push({ file, fd: openLogFile(file) });
    } catch (err) {
      closeAll(opened);
      throw new OpenLogError(file, err);
    }
  }
  return opened;
}

/**
 * Opens the rotated set of an active file (oldest first, then the active file) so that a
 * rotation at any moment leaves every record in exactly one file opened. A rotation links the
 * active file to a new rotated name, unlinks the active name and creates a new active file. The
 * active file is opened first and the rotated files listed after: every record the opened
 * active file lacks was rotated before it was opened, so its rotated name is listed. A rotated
 * file that is the opened active file under a second name (a rotation in progress, or one a
 * crash interrupted) is read once, under the rotated name, as logSet has it. A missing active
 * file is no error (all rotated, or between a rotation's unlink and the new file).
 */
export function openLogSet(active: string): OpenLog[] {
  let head: OpenLog | undefined;
  try {
    head = { file: active, fd: openLogFile(active) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new OpenLogError(active, err);
  }
  let rotated: OpenLog[];
  try {
    rotated = openLogFiles(listRotated(active).map((r) => r.path));
  } catch (err) {
    if (head) closeSync(head.fd);
    throw err;
  }
  if (head === undefined) return rotated;
  let twin: boolean;
  try {
    // The same file: by the opened descriptors, not the names. A rotation that completed after the
    // active file was opened left it with one name, the rotated one (a name check as rotatedTwinOf
    // makes, two links, would read it twice).
    const st = fstatSync(head.fd);
    twin = rotated.some(({ fd }) => {
      const r = fstatSync(fd);
      return r.ino === st.ino && r.dev === st.dev;
    });
  } catch (err) {
    closeAll([...rotated, head]);
    throw new OpenLogError(active, err);
  }
  if (!twin) return [...rotated, head];
  closeSync(head.fd);
  return rotated;
}

/** Closes what openLogFiles / openLogSet opened. */
export function closeLogs(logs: readonly OpenLog[]): void {
  closeAll(logs);
}
