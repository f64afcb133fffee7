import { linkSync, lstatSync, renameSync, unlinkSync } from 'node:fs';
import { rotatedName, rotatedTwinOf } from './log-files.js';

/**
 * Moves the active file to the first free rotated name from `fromIndex` on, and returns that
 * name. rename(2) replaces its target, so a file created at the chosen name after it was chosen
 * (another process, a restore, an operator) would be destroyed with its records; link(2) never
 * replaces (EEXIST: that name is taken, try the next), and the old name is unlinked after.
 * A crash between the two leaves one file under two names: finishInterruptedRotation completes
 * the move at the next start. Out of exact indexes (a planted `.9007199254740991.` file) it
 * throws (code EROTATE): the sink fails closed rather than overwrite a rotated file.
 */
export function moveToRotatedName(active: string, fromIndex: number): string {
  for (let index = fromIndex; Number.isSafeInteger(index); index += 1) {
    const target = rotatedName(active, index);
    try {
      linkSync(active, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === undefined || !NO_HARD_LINKS.has(code)) throw err;
      // A file system without hard links (FAT/exFAT, some network and FUSE mounts): rename to a
      // name checked free just before. The old, small window between check and rename comes back
      // there; failing every rotation (and so, fail-closed, every call) would be worse.
      if (taken(target)) continue;
      renameSync(active, target);
      return target;
    }
    unlinkSync(active);
    return target;
  }
  throw Object.assign(new Error('no free rotated file name (index beyond 2^53)'), { code: 'EROTATE' });
}

/** link(2) errors that mean "this file system has no hard links", not "something is wrong". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Whether a name exists (a dangling symlink counts: it is someone's, and rename would replace it). */
function taken(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Completes a rotation a crash interrupted between link and unlink: drops the active name of a
 * file that is also a rotated file, so the writer starts a fresh active file and continues the
 * chain from the rotated one. Returns the rotated name when it did. For the writer only (it
 * holds the writer lock); readers skip the twin instead (logSet).
 */
export function finishInterruptedRotation(active: string): string | undefined {
  const twin = rotatedTwinOf(active);
  if (twin !== undefined) unlinkSync(active);
  return twin;
}
