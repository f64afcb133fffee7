import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { WardenError } from '../core/errors.js';

/** Another live process is writing this audit log: two writers would fork the hash chain. */
export class AuditLockedError extends WardenError {
  constructor(message: string) {
    super('audit_locked', message);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still a live writer.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `<log>.lock` (O_EXCL, holding our pid). A lock left by a dead process (SIGKILL) or by
 * this process is taken over; a live other writer makes start-up fail with `audit_locked`.
 */
export function acquireWriterLock(logFile: string): string {
  const path = `${logFile}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o640);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readPid(path);
    if (holder !== undefined && holder !== process.pid && alive(holder)) {
      throw new AuditLockedError(`${logFile} is being written by process ${holder} (lock ${path})`);
    }
    try {
      unlinkSync(path); // stale: its writer is gone
    } catch {
      // another starter removed it first; retry the exclusive create
    }
  }
  throw new AuditLockedError(`${logFile}: could not take the writer lock ${path}`);
}

/** Removes the lock if it is still ours. */
export function releaseWriterLock(path: string): void {
  if (readPid(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
