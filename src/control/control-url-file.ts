import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { checkControlListener } from './listener-owner.js';

/**
 * A running warden writes its control URL next to the admin token file, so `warden approve`,
 * `warden sessions` and `warden revoke` find a control API bound to a free port (port 0)
 * without flags. The file holds a loopback URL (or `unix:<path>`) only; the token file stays the
 * secret. The file names the most recently started warden; a warden removes it on exit only while
 * it still names that warden (see {@link ControlUrlAdvert}).
 */
export function controlUrlFileFor(adminTokenFile: string): string {
  return join(dirname(adminTokenFile), 'control-url');
}

/** The URL in the control-url file beside this token file, or undefined (absent, empty, unreadable). */
export function readControlUrlFile(adminTokenFile: string): string | undefined {
  try {
    const url = readFileSync(controlUrlFileFor(adminTokenFile), 'utf8').trim();
    return url === '' ? undefined : url;
  } catch {
    return undefined;
  }
}

/** What {@link controlUrlFileProblem} needs of a file's status (an fs.Stats, from lstat). */
export interface UrlFileStatus {
  readonly uid: number;
  readonly mode: number;
  isFile(): boolean;
}

/**
 * Why a control-url file must not be followed, or undefined. The CLIs send the admin credential
 * to the URL it names, so it is trusted only as far as the token file is: a regular file (warden
 * writes one; a symbolic link could be anyone's), owned by a user in `trustedUids` (the token
 * file's owner, who holds the token anyway, the user running the CLI, or root, who can read every
 * file), and writable by nobody else. A file someone else could write would otherwise hand them the admin token.
 */
export function controlUrlFileProblem(status: UrlFileStatus, trustedUids: readonly number[]): string | undefined {
  if (!status.isFile()) return 'is not a regular file';
  if ((status.mode & 0o022) !== 0) return 'is writable by group or others';
  if (!trustedUids.includes(status.uid)) return `is owned by another user (uid ${status.uid})`;
  return undefined;
}

/** What a CLI found in the control-url file: its URL (undefined: absent or empty) and why not to follow it. */
export interface ControlUrlAdvertRead {
  readonly url: string | undefined;
  readonly problem: string | undefined;
}

/**
 * Reads the control-url file beside `adminTokenFile` for a CLI, and checks the very file it read
 * (see {@link controlUrlFileProblem}): one open without following links, then fstat and read
 * through that descriptor. Checking by name and reading by name again would let someone who may
 * write the folder swap in a file of theirs between the two and receive the admin credential.
 */
export function readAdvertisedControlUrl(adminTokenFile: string): ControlUrlAdvertRead {
  const file = controlUrlFileFor(adminTokenFile);
  let fd: number;
  try {
    // O_NONBLOCK: a planted FIFO must not hang the CLI; fstat below rejects it.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    // ELOOP: a symbolic link at that name (warden writes a regular file).
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return { url: undefined, problem: 'is not a regular file' };
    return { url: undefined, problem: undefined };
  }
  try {
    const trusted = trustedUids(adminTokenFile);
    const problem = fileProblem(fd, trusted);
    if (problem !== undefined) return { url: undefined, problem };
    const url = readFileSync(fd, 'utf8').trim();
    if (url === '') return { url: undefined, problem: undefined };
    // The warden that wrote the file may be gone and its port (or socket) taken by another user.
    const listener = trusted === undefined ? { kind: 'unknown' as const } : checkControlListener(url, trusted);
    if (listener.kind === 'untrusted') return { url: undefined, problem: `names ${url}, which ${listener.problem}, not by the warden that wrote it` };
    return { url, problem: undefined };
  } catch {
    return { url: undefined, problem: undefined };
  } finally {
    closeSync(fd);
  }
}

/** Root, the user running this, and the token file's owner; undefined where uids do not exist. */
function trustedUids(adminTokenFile: string): number[] | undefined {
  if (process.platform === 'win32' || process.getuid === undefined) return undefined;
  const uids = [0, process.getuid()];
  try {
    uids.push(statSync(adminTokenFile).uid);
  } catch {
    // unreadable token file: the CLI has already stopped on it; trust no one else
  }
  return uids;
}

function fileProblem(fd: number, trusted: readonly number[] | undefined): string | undefined {
  if (trusted === undefined) return undefined;
  try {
    return controlUrlFileProblem(fstatSync(fd), trusted);
  } catch (err) {
    return `cannot be checked (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

/**
 * Whether a displaced warden's URL may be written back to control-url: it answers, and the
 * listener is this user's (or root's). Another user who took the port of a warden that stopped
 * must not be advertised, or the CLIs would send them the admin credential. Where the platform
 * does not say who listens (only Linux /proc is read), the file is removed instead.
 */
async function mayGiveBack(url: string): Promise<boolean> {
  if (!(await controlUrlAnswers(url))) return false;
  if (process.getuid === undefined) return false;
  return checkControlListener(url, [0, process.getuid()]).kind === 'trusted';
}

/**
 * Writes the URL to a fresh file beside the token file and renames it into place: a control-url
 * that is a symbolic link (or any file someone planted) is replaced, never written through, so no
 * file elsewhere is overwritten, and the result is always a regular file of this user, mode 0600,
 * which is what the CLIs require before they follow it (see {@link controlUrlFileProblem}).
 */
export function writeControlUrlFile(adminTokenFile: string, url: string): void {
  const file = controlUrlFileFor(adminTokenFile);
  // 'wx' (O_CREAT|O_EXCL) never follows a link at this name; the random part makes one unlikely.
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, `${url}\n`, { mode: 0o600, flag: 'wx' });
  try {
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * True when something accepts connections at a control URL (TCP, or a Unix socket for `unix:`).
 * Used to tell a live warden's advert from one left behind by a warden that is gone.
 */
export function controlUrlAnswers(url: string, timeoutMs = 500): Promise<boolean> {
  let options: { path: string } | { host: string; port: number };
  try {
    if (url.startsWith('unix:')) options = { path: url.slice('unix:'.length) };
    else {
      const u = new URL(url);
      options = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) };
    }
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((done) => {
    const socket = connect(options);
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** What a warden found in the control-url file when it advertised itself there. */
export interface ControlUrlAdvert {
  readonly file: string;
  readonly url: string;
  /** Another warden's URL that was in the file and still answered: it is given back on exit. */
  readonly displaced: string | undefined;
  /** Removes the file if it still names this warden, or gives it back to the displaced warden if that one still runs. */
  withdraw(): Promise<'removed' | 'restored' | 'kept'>;
}

/**
 * Writes this warden's control URL beside the admin token file. Two wardens sharing the folder
 * (two agents, one config folder): the newer one takes the file, the caller warns with
 * `displaced`, and on exit the file goes back to the older one while it still runs. A file left
 * by a warden that is gone is simply replaced.
 */
export async function advertiseControlUrl(adminTokenFile: string, url: string): Promise<ControlUrlAdvert> {
  const file = controlUrlFileFor(adminTokenFile);
  const previous = readControlUrlFile(adminTokenFile);
  const displaced = previous !== undefined && previous !== url && (await controlUrlAnswers(previous)) ? previous : undefined;
  writeControlUrlFile(adminTokenFile, url);
  return {
    file,
    url,
    displaced,
    withdraw: async () => {
      // Another warden started after this one and took the file: it is that warden's now.
      if (readControlUrlFile(adminTokenFile) !== url) return 'kept';
      if (displaced !== undefined && (await mayGiveBack(displaced))) {
        writeControlUrlFile(adminTokenFile, displaced);
        return 'restored';
      }
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
      return 'removed';
    },
  };
}
