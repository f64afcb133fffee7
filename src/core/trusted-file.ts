import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './errors.js';

/** The parts of a stat result the check reads (injectable for the ownership case in tests). */
export type StatLike = Pick<Stats, 'mode' | 'uid'>;
type Stat = (path: string) => StatLike | undefined;

const WORLD_WRITABLE = 0o002;
const STICKY = 0o1000;

function statOrUndefined(path: string): StatLike | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Why another local user could rewrite this file, or undefined when they cannot. Files warden
 * trusts for its decisions (policy, pins) decide what it allows: like sshd's StrictModes, but
 * only what is unambiguous, so shared-group and container setups keep working:
 * - the file is world-writable;
 * - its folder is world-writable without the sticky bit (anyone can replace the file);
 * - in a world-writable sticky folder (`/tmp`), the file belongs to another user (not root),
 *   who may have created it there first.
 * A file that does not exist yet is judged by its folder; a symlink by its own folder and by the
 * file it leads to. Not checked on Windows (no modes).
 */
export function untrustedFileReason(file: string, stat: Stat = statOrUndefined, uid = process.getuid?.()): string | undefined {
  if (process.platform === 'win32') return undefined;
  const reason = pathReason(file, stat, uid);
  if (reason !== undefined) return reason;
  // A symlink is judged by where it leads too: whoever can write the target's folder can replace
  // the target, however private the link's own folder is.
  const real = realpathOrUndefined(file);
  return real !== undefined && real !== file ? pathReason(real, stat, uid) : undefined;
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function pathReason(file: string, stat: Stat, uid: number | undefined): string | undefined {
  const dir = dirname(file);
  const f = stat(file);
  const d = stat(dir);
  if (f && (f.mode & WORLD_WRITABLE) !== 0) return `${file} is writable by every local user (chmod o-w ${file})`;
  if (d && (d.mode & WORLD_WRITABLE) !== 0) {
    if ((d.mode & STICKY) === 0) return `its folder ${dir} is writable by every local user, who could replace the file (chmod o-w ${dir}, or move the file)`;
    if (f && uid !== undefined && f.uid !== uid && f.uid !== 0) return `${file} belongs to another user (uid ${f.uid}) in the shared folder ${dir}: move it to a folder of your own`;
  }
  return undefined;
}

/**
 * Throws a ConfigError naming the file (and config key) when another local user could rewrite
 * it: whoever can change `what` decides what warden allows, so warden refuses to trust it.
 */
export function assertTrustedFile(file: string, what: string, keyPath?: string): void {
  const reason = untrustedFileReason(file);
  if (reason !== undefined) {
    throw new ConfigError(`refusing to trust the ${what}: ${reason}`, { file, ...(keyPath ? { keyPath } : {}) });
  }
}
