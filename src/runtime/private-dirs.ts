import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates the folders of these files with mode 0700 when they do not exist yet. Warden's state
 * folder (`.warden/`: admin token, audit log, checkpoint, pins) is private whichever writer
 * happens to need it first. Existing folders are left as they are.
 */
export function createPrivateDirs(files: readonly string[]): void {
  for (const file of files) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
}
