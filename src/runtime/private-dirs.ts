import { chmodSync, lstatSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WardenConfig } from '../config/config-schema.js';
import { ConfigError } from '../core/errors.js';
import { makeDirectories } from '../core/make-directories.js';

/**
 * Creates the folders of these files with mode 0700 when they do not exist yet. Warden's state
 * folder (`.warden/`: admin token, audit log, checkpoint, pins) is private whichever writer
 * happens to need it first.
 */
export function createPrivateDirs(files: readonly string[]): void {
  for (const file of files) makeDirectories(dirname(file), 0o700);
}

/** A folder warden keeps secrets, state or evidence in, with the config key that names it. */
export interface StateDir {
  readonly dir: string;
  readonly keyPath: string;
  /** Warden's own folder (admin token, pins, revocations): tightened to 0700 when it is wider. */
  readonly own: boolean;
}

/**
 * The folders `warden run` writes secrets, state and evidence into. The admin token's, the pins'
 * and the revocations' folders (`.warden/` by default) are warden's own. The audit log's and the
 * log file's folders may be shared ones (`/var/log`, the config folder): checked, never chmod-ed.
 * A folder that is the config file's own folder is never warden's own either.
 */
export function stateDirs(config: WardenConfig, configFile: string): StateDir[] {
  const configDir = dirname(configFile);
  const byDir = new Map<string, StateDir>();
  const add = (file: string | null | undefined, keyPath: string, own: boolean): void => {
    if (typeof file !== 'string') return;
    const dir = dirname(file);
    const seen = byDir.get(dir);
    const mine = own && dir !== configDir;
    if (!seen) byDir.set(dir, { dir, keyPath, own: mine });
    else if (mine && !seen.own) byDir.set(dir, { dir, keyPath, own: true });
  };
  if (config.control.enabled) add(config.control.adminTokenFile, 'control.adminTokenFile', true);
  if (config.pins.enabled) add(config.pins.file, 'pins.file', true);
  add(config.state.revocationsFile, 'state.revocationsFile', true);
  add(config.audit.file, 'audit.file', false);
  add(config.audit.checkpoint.file, 'audit.checkpoint.file', false);
  add(config.logging.file, 'logging.file', false);
  return [...byDir.values()];
}

/** The parts of a stat result the check reads (injectable for the ownership cases in tests). */
export interface DirStat {
  readonly mode: number;
  readonly uid: number;
  isDirectory(): boolean;
}

export interface PrepareOptions {
  /** Told once per folder that was tightened (stderr in `warden run`). */
  readonly note: (message: string) => void;
  readonly uid?: number | undefined;
  readonly stat?: (path: string) => DirStat | undefined;
  /** lstat of the folder path itself (a symlink's own owner); injectable like `stat`. */
  readonly lstat?: (path: string) => LinkStat | undefined;
}

/** The parts of an lstat result the check reads. */
export interface LinkStat {
  readonly uid: number;
  isSymbolicLink(): boolean;
}

/**
 * Makes every state folder of the config private before anything is written into it:
 * - missing: created with mode 0700;
 * - a symlink owned by another user (not root), a folder owned by another user, or writable by every local user (warden's own folder: even
 *   with the sticky bit; a shared folder: without it): start-up fails naming the config file and
 *   the key, as that user could read, plant or swap the admin token, pins, revocations or the
 *   audit log;
 * - warden's own folder (`.warden/`) owned by this user with group or other bits: tightened to
 *   0700 and said once. Not checked on Windows (no modes).
 */
export function preparePrivateDirs(config: WardenConfig, configFile: string, options: PrepareOptions): void {
  const uid = options.uid ?? process.getuid?.();
  if (process.platform === 'win32' || uid === undefined) return;
  const stat = options.stat ?? statOrUndefined;
  const lstat = options.lstat ?? lstatOrUndefined;
  for (const { dir, keyPath, own } of stateDirs(config, configFile)) {
    // A symlink another user planted (in a sticky folder like /tmp) would steer warden's files,
    // and the chmod below, into a folder of their choosing (say /etc, when warden runs as root).
    const refuseForeignLink = (): void => {
      const link = lstat(dir);
      if (link?.isSymbolicLink() && link.uid !== uid && link.uid !== 0) {
        throw new ConfigError(`${dir} is a symlink that belongs to another user (uid ${link.uid}), who chose where it leads: use a folder of your own`, { file: configFile, keyPath });
      }
    };
    refuseForeignLink();
    let st = stat(dir);
    if (st === undefined) {
      try {
        makeDirectories(dir, 0o700);
      } catch (err) {
        // The config names a folder that cannot be made (read-only, under /proc, a file in the way).
        throw new ConfigError(`cannot create the folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: configFile, keyPath });
      }
      // Checked as one found there: mkdir -p takes a folder (or a symlink to one) that appeared
      // meanwhile as made, and another user's loop in /tmp can plant a symlink between the lstat
      // above and the mkdir.
      refuseForeignLink();
      st = stat(dir);
      if (st === undefined) continue;
    }
    // Not a folder: the writer that needs it reports that with its own error.
    if (!st.isDirectory()) continue;
    const mode = st.mode & 0o7777;
    if (st.uid !== uid && st.uid !== 0) {
      throw new ConfigError(`${dir} belongs to another user (uid ${st.uid}), who could read or replace warden's files there: use a folder of your own`, { file: configFile, keyPath });
    }
    // Warden's own folder: no one else may create files in it at all. A shared folder (audit, log)
    // may be a sticky one like a tmpfs root, where others cannot remove or rename our files.
    if ((mode & 0o002) !== 0 && (own || (mode & 0o1000) === 0)) {
      throw new ConfigError(`${dir} is writable by every local user (mode ${octal(mode)}), who could plant or replace warden's files there: chmod 700 ${dir}, or use another folder`, { file: configFile, keyPath });
    }
    if (own && st.uid === uid && (mode & 0o077) !== 0) {
      chmodSync(dir, 0o700);
      options.note(`tightened ${dir} (${keyPath}) from mode ${octal(mode)} to 0700: it holds warden's secrets and state`);
    }
  }
}

function statOrUndefined(path: string): DirStat | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(path: string): LinkStat | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
