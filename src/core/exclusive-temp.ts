import { openSync, unlinkSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';

/**
 * Creates a temp file for an atomic replace (write, then rename over the target) without ever
 * opening what is already at its name: a symlink planted there would otherwise make warden
 * truncate and write whatever it points to. A leftover from a crash (a file or a link) is
 * removed first; `wx` (O_EXCL) then fails rather than follow a new one.
 */
export function openTempExclusive(tmp: string, mode: number): number {
  try {
    return openSync(tmp, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    unlinkSync(tmp);
    return openSync(tmp, 'wx', mode);
  }
}

/** openTempExclusive for the event loop's background writes. */
export async function openTempExclusiveAsync(tmp: string, mode: number): Promise<FileHandle> {
  try {
    return await open(tmp, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await unlink(tmp);
    return open(tmp, 'wx', mode);
  }
}
