import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { WardenError } from '../core/errors.js';

/** Another live process is writing this audit log: two writers would fork the hash chain. */
export class AuditLockedError extends WardenError {
  constructor(message: string) {
    super('audit_locked', message);
  }
}

/**
 * How long a lock without a readable pid, or a takeover marker, counts as someone's work in
 * progress rather than a crash's leftover. Lock files are written whole (see createWithContent),
 * so an empty one comes from a writer that died at start-up, or an older warden still writing it.
 */
const IN_PROGRESS_MS = 10_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still a live writer.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pid in a lock file: a number, undefined when there is none, 'absent' when the file is gone,
 * 'foreign' when something other than a regular file is at the path (no lock warden made: locks
 * are regular files linked into place whole). Opened non-blocking and read only when regular: a
 * FIFO planted there blocked a plain read, and with it start-up, or close() on SIGTERM.
 */
function readPid(path: string): number | undefined | 'absent' | 'foreign' {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return 'foreign';
    const pid = Number(readFileSync(fd, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function youngerThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
}

/**
 * Creates `path` holding `content`, or returns false when it exists. The content is written to a
 * private temporary file first and linked into place (link(2) fails on an existing name), so the
 * file never exists empty. Created with open(O_EXCL) and written after, a second starter could
 * read the empty file in between, take it for a dead writer's lock and take it over: two
 * wardens then appended to one log and forked its hash chain.
 */
function createWithContent(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(temp, content, { mode: 0o640, flag: 'wx' });
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Takes `<log>.lock` (created whole, holding our pid). A lock left by a dead process (SIGKILL) or
 * by this process is taken over; a live other writer makes start-up fail with `audit_locked`.
 */
export function acquireWriterLock(logFile: string): string {
  const path = `${logFile}.lock`;
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createWithContent(path, mine)) return path;
    const holder = readPid(path);
    if (holder === 'absent') continue; // released meanwhile: try again
    if (typeof holder === 'number' && holder !== process.pid && alive(holder)) {
      throw new AuditLockedError(`${logFile} is being written by process ${holder} (lock ${path})`);
    }
    if (holder === undefined && youngerThan(path, IN_PROGRESS_MS)) {
      throw new AuditLockedError(`${logFile}: its writer lock ${path} is being created by another process; try again in a few seconds`);
    }
    if (takeOver(path, holder, mine)) return path;
  }
  throw new AuditLockedError(`${logFile}: could not take the writer lock ${path}`);
}

/**
 * Replaces a stale lock (its writer is gone) with ours. Two starters that both judged the same
 * lock stale must not both succeed: the second one's unlink would remove the first one's fresh
 * lock. So a takeover is done only while holding `<lock>.takeover` (created whole, like the
 * lock), and only if the lock still holds what was judged stale. A marker left by a starter that
 * died during its takeover is a leftover at once when its pid is not running, else after
 * IN_PROGRESS_MS.
 */
function takeOver(path: string, stale: number | undefined | 'foreign', mine: string): boolean {
  const marker = `${path}.takeover`;
  if (!createWithContent(marker, mine)) {
    // A fresh marker is a takeover in progress, unless the process that made it is gone: a starter
    // SIGKILLed mid-takeover (an agent restarting warden at once) would otherwise block the next
    // start for IN_PROGRESS_MS.
    const taker = readPid(marker);
    const takerGone = taker === 'foreign' || (typeof taker === 'number' && taker !== process.pid && !alive(taker));
    if (!takerGone && youngerThan(marker, IN_PROGRESS_MS)) {
      throw new AuditLockedError(`another process is taking over the stale writer lock ${path}; try again in a few seconds`);
    }
    removeQuietly(marker);
    if (!createWithContent(marker, mine)) return false;
  }
  try {
    const now = readPid(path);
    if (now !== 'absent' && now !== stale) return false; // someone else's lock now: judge it again
    removeQuietly(path);
    return createWithContent(path, mine);
  } finally {
    removeQuietly(marker);
  }
}

/** Removes the lock if it is still ours. */
export function releaseWriterLock(path: string): void {
  if (readPid(path) !== process.pid) return;
  removeQuietly(path);
}
