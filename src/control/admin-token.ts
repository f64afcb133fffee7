import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { makeDirectories } from '../core/make-directories.js';

const MIN_TOKEN_CHARS = 16;

export interface AdminToken {
  readonly token: string;
  /** Absolute path of the token file, when the token lives in one. */
  readonly file: string | undefined;
  readonly generated: boolean;
}

/**
 * Reads a credential file (the admin token, an approver's token: they grant approval power),
 * refusing one other users can read, and one owned by another user than warden's (or root):
 * mode 0600 keeps others out, not the owner, so that owner could set the credential (with warden
 * run as root and the file bob's, bob would choose it). Checked and read through one descriptor,
 * so a swap between the check and the read does not matter.
 */
export function readSecretFile(path: string, keyPath: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new ConfigError(`cannot read credential file ${path}`, { keyPath }, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`credential file ${path} is not a regular file`, { keyPath });
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new ConfigError(`credential file ${path} is readable by group or others; run chmod 600 ${path}`, { keyPath });
    }
    const me = process.getuid?.();
    if (me !== undefined && st.uid !== me && st.uid !== 0) {
      throw new ConfigError(`credential file ${path} is owned by another user (uid ${st.uid}); it must belong to the user warden runs as (uid ${me}) or root`, { keyPath });
    }
    const token = readFileSync(fd, 'utf8').trim();
    if (token.length < MIN_TOKEN_CHARS) {
      throw new ConfigError(`credential in ${path} is shorter than ${MIN_TOKEN_CHARS} characters`, { keyPath });
    }
    return token;
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads the admin credential: from `envName` when configured, else from `file`; when the file does
 * not exist a random one is generated and written with mode 0600 (directory 0700).
 */
export function loadOrCreateAdminToken(options: {
  readonly file: string;
  readonly envName?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly baseDir?: string;
}): AdminToken {
  if (options.envName !== undefined) {
    const value = (options.env ?? process.env)[options.envName]?.trim();
    if (!value || value.length < MIN_TOKEN_CHARS) {
      throw new ConfigError(`environment variable ${options.envName} is unset or shorter than ${MIN_TOKEN_CHARS} characters`, { keyPath: 'control.adminTokenEnv' });
    }
    return { token: value, file: undefined, generated: false };
  }
  const file = resolve(options.baseDir ?? process.cwd(), options.file);
  const token = randomBytes(32).toString('base64url');
  makeDirectories(dirname(file), 0o700);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600); // create only: never overwrite an operator's token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`cannot create admin token file ${file}`, { keyPath: 'control.adminTokenFile' }, { cause: err });
    }
    return { token: readSecretFile(file, 'control.adminTokenFile'), file, generated: false };
  }
  try {
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  return { token, file, generated: true };
}

