import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';

/**
 * Real full disks for the audit tests: a small tmpfs (needs mount permission, as root in CI)
 * and a filler that takes every free byte of it.
 */

/** Mounts a tmpfs of `size` (e.g. `16k`) at `dir`; false when mounting is not permitted. */
export function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

/** Lazy: a file a failed test left open must not keep the mount (and the run's temp folder) busy. */
export function unmountTmpfs(dir: string): void {
  spawnSync('umount', ['-l', dir]);
}

/**
 * Fills the file system through `filler`: whole pages, then single bytes until ENOSPC. Files
 * already there keep only the room left in their last page.
 */
export function fillFileSystem(filler: string): void {
  const fd = openSync(filler, 'w');
  try {
    for (const size of [4096, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}
