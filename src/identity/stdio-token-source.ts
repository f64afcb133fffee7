import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { watchFile } from '../core/watch-file.js';
import type { Logger } from '../logging/logger.js';
import type { StdioTokenSource } from './identity-config.js';

/** A token is at most 8 KiB; allow generous trailing whitespace, refuse anything bigger. */
const MAX_TOKEN_FILE_BYTES = 16 * 1024;

/** The current stdio token, or why there is none. */
export type TokenRead = { readonly ok: true; readonly token: string } | { readonly ok: false; readonly description: string };

/** Where the stdio process token comes from; `read()` is called on every tool call. */
export interface TokenSource {
  /** Human-readable origin for messages, e.g. `env WARDEN_TOKEN` or `file /run/token`. */
  readonly origin: string;
  /** True when a new token can be supplied without restarting (a file). */
  readonly refreshable: boolean;
  read(): TokenRead;
  close(): void;
}

/** A token from an environment variable (fixed for the life of the process). */
function envSource(name: string, env: NodeJS.ProcessEnv): TokenSource {
  return {
    origin: `env ${name}`,
    refreshable: false,
    read: () => {
      const value = env[name];
      return value === undefined || value === '' ? { ok: false, description: `environment variable ${name} is not set` } : { ok: true, token: value.trimEnd() };
    },
    close: () => undefined,
  };
}

/**
 * A token file, re-read when it changes so a refreshed token takes effect without restart.
 * A watch on the file that follows rename-over replacements (watchFile) marks it dirty; a stat on
 * each call (mtime, size, inode) is the fallback where watch events are lost or late.
 * A file that cannot be read fails the call (closed), it never falls back to the old token.
 */
function fileSource(path: string, logger: Logger | undefined): TokenSource {
  let cached: { token: string; stamp: string } | undefined;
  let dirty = true;
  const stopWatching = watchFile(path, () => {
    dirty = true;
  }, { onError: (err) => logger?.warn({ path, err: String(err) }, 'cannot watch token file; relying on a stat per call') });
  const stat = (): { stamp: string; size: number; file: boolean } => {
    // Plain (non-bigint) stat is ~1 µs cheaper; mtimeMs/ctimeMs keep sub-millisecond precision.
    const st = statSync(path);
    return { stamp: `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`, size: st.size, file: st.isFile() };
  };
  return {
    origin: `file ${path}`,
    refreshable: true,
    read: () => {
      try {
        const { stamp, size, file } = stat();
        // A FIFO blocks the read (the whole event loop) until a writer comes; a device such as
        // /dev/zero never ends (and reports size 0). Only a regular file can hold a token.
        if (!file) {
          cached = undefined;
          return { ok: false, description: `token file ${path} is not a regular file` };
        }
        // Never read an arbitrarily large file into memory; a token is at most 8 KiB.
        if (size > MAX_TOKEN_FILE_BYTES) return tooLarge();
        if (dirty || cached === undefined || cached.stamp !== stamp) {
          dirty = false;
          const read = readBounded(path);
          if (read === undefined) return tooLarge();
          if (cached?.stamp !== stamp) warnIfOthersCanRead(path, read.mode, logger);
          cached = { token: read.text.trimEnd(), stamp };
        }
      } catch (err) {
        cached = undefined;
        return { ok: false, description: `cannot read token file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
      }
      return cached.token === '' ? { ok: false, description: `token file ${path} is empty` } : { ok: true, token: cached.token };
    },
    close: stopWatching,
  };

  function tooLarge(): TokenRead {
    cached = undefined;
    return { ok: false, description: `token file ${path} is larger than ${MAX_TOKEN_FILE_BYTES} bytes` };
  }
}

/**
 * A token file every local user can read hands the agent's identity to each of them (the token is
 * a bearer credential). Warned, not refused: the file is the agent deployment's, not warden's, and
 * common mounts (a Kubernetes projected token, 0644 by default) are readable by design where only
 * one user exists. Once per content of the file (a refresher that keeps the mode warns each time it
 * writes, which is what an operator should see).
 */
function warnIfOthersCanRead(path: string, mode: number, logger: Logger | undefined): void {
  if (process.platform === 'win32' || (mode & 0o004) === 0) return;
  logger?.warn({ path, mode: `0${(mode & 0o777).toString(8)}` }, `stdio token file ${path} is readable by every local user, who can use the token as the agent: chmod 600 ${path} (and have the token refresher create it so)`);
}

/**
 * Reads at most MAX_TOKEN_FILE_BYTES of a regular file (its text and mode); undefined when it
 * holds more. The checks are made on the opened file itself: the path may be swapped (for a FIFO,
 * a device, a bigger file) between the stat and the read. O_NONBLOCK: opening a FIFO would
 * otherwise wait for a writer.
 */
function readBounded(path: string): { text: string; mode: number } | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    const buf = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    return n > MAX_TOKEN_FILE_BYTES ? undefined : { text: buf.toString('utf8', 0, n), mode: st.mode };
  } finally {
    closeSync(fd);
  }
}

/** Creates the configured stdio token source. Relative files resolve against `baseDir`. */
export function createTokenSource(
  source: StdioTokenSource,
  opts: { baseDir: string; env: NodeJS.ProcessEnv; logger?: Logger | undefined },
): TokenSource {
  return 'env' in source ? envSource(source.env, opts.env) : fileSource(resolve(opts.baseDir, source.file), opts.logger);
}
