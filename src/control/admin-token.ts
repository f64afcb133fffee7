import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';

const MIN_TOKEN_CHARS = 16;

export interface AdminToken {
  readonly token: string;
  /** Absolute path of the token file, when the token lives in one. */
  readonly file: string | undefined;
  readonly generated: boolean;
}

/** Reads a credential file, refusing ones other users can read (the token grants approval power). */
export function readSecretFile(path: string, keyPath: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new ConfigError(`cannot read credential file ${path}`, { keyPath }, { cause: err });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ConfigError(`credential file ${path} is readable by group or others; run chmod 600 ${path}`, { keyPath });
  }
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < MIN_TOKEN_CHARS) {
    throw new ConfigError(`credential in ${path} is shorter than ${MIN_TOKEN_CHARS} characters`, { keyPath });
  }
  return token;
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
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600); // create only: never overwrite an operator's token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`cannot create admin token file ${file}`, { keyPath: 'control.adminTokenFile' }, { cause: err });
    }
    refuseOtherOwner(file);
    return { token: readSecretFile(file, 'control.adminTokenFile'), file, generated: false };
  }
  try {
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  return { token, file, generated: true };
}

/**
 * The admin token must belong to the user warden runs as (or root): mode 0600 keeps others out,
 * not the owner, so with a file of bob's a root-run warden would take bob's choice as its admin
 * credential (approval and revocation power).
 */
function refuseOtherOwner(file: string): void {
  const me = process.getuid?.();
  if (me === undefined) return; // no uids (Windows)
  let owner: number;
  try {
    owner = statSync(file).uid;
  } catch (err) {
    throw new ConfigError(`cannot read credential file ${file}`, { keyPath: 'control.adminTokenFile' }, { cause: err });
  }
  if (owner !== me && owner !== 0) {
    throw new ConfigError(`admin token file ${file} is owned by another user (uid ${owner}); it must belong to the user warden runs as (uid ${me})`, { keyPath: 'control.adminTokenFile' });
  }
}
