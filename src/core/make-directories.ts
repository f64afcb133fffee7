import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `mkdir -p` that fails where Node's spins. On Node 20, mkdirSync(dir, { recursive: true }) never
 * returns when mkdir(2) answers ENOENT although the parent exists, as procfs does (`mkdir /proc/x`
 * is ENOENT, `mkdir /proc` EEXIST): it climbs to the parent, finds it there, tries the child again,
 * forever, at full CPU. Here each missing folder is made once, top down, so such a path throws
 * mkdir's own error (which names the folder) after one try.
 */
export function makeDirectories(dir: string, mode?: number): void {
  const missing: string[] = [];
  for (let d = dir; isMissing(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  // Not missing, yet no folder: a file there or in the way (EEXIST, ENOTDIR), or a path that cannot
  // be looked at (EACCES). mkdir -p fails then; returning quietly left the start-up check silent
  // and the writer failing later on a folder the config named.
  if (missing.length === 0) {
    if (!isDirectory(dir)) mkdirSync(dir, mode === undefined ? undefined : { mode });
    return;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, mode === undefined ? undefined : { mode });
    } catch (err) {
      // Made meanwhile by someone else: fine, as with mkdir -p.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(d)) continue;
      throw err;
    }
  }
}

/** Only ENOENT is missing: any other stat error stops the climb, and mkdir reports it. */
function isMissing(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
