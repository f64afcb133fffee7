import { linkSync, unlinkSync } from 'node:fs';
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
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    unlinkSync(active);
    return target;
  }
  throw Object.assign(new Error('no free rotated file name (index beyond 2^53)'), { code: 'EROTATE' });
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
