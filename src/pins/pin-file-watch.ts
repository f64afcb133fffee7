import { dirname } from 'node:path';
import { watchFile } from '../core/watch-file.js';
import type { Logger } from '../logging/logger.js';
import type { PinKind } from './definition-digest.js';
import { makeDirectories } from '../core/make-directories.js';

/**
 * Calls `onChange` (debounced, 50 ms) when the pin file changes, e.g. after `warden pins accept`.
 * Returns the stop function. A watch that cannot start is logged: accepts then apply at restart.
 */
export function watchPinFile(file: string, onChange: () => void, logger: Logger | undefined): () => void {
  let stopWatching: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const warn = (err: unknown): void => logger?.warn({ err, file }, 'cannot watch the pin file; accepted pins apply after restart');
  try {
    // The folder may not exist before the first pin is written; watching for the file needs it.
    makeDirectories(dirname(file), 0o700);
    stopWatching = watchFile(file, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, 50);
      timer.unref();
    }, { onError: warn });
  } catch (err) {
    warn(err);
  }
  return () => {
    stopWatching?.();
    if (timer) clearTimeout(timer);
  };
}

/**
 * Wraps `fn` so a burst of triggers runs it once, after the current task (never re-entrantly from
 * inside the code that triggered it), with every kind triggered in the burst; a throw is logged.
 */
export function coalesced(fn: ((kinds: ReadonlySet<PinKind>) => void) | undefined, logger: Logger | undefined): (kind: PinKind) => void {
  let queued: Set<PinKind> | undefined;
  return (kind) => {
    if (!fn) return;
    if (queued) {
      queued.add(kind);
      return;
    }
    const kinds = (queued = new Set([kind]));
    setImmediate(() => {
      queued = undefined;
      try {
        fn(kinds);
      } catch (err) {
        logger?.error({ err }, 'could not announce a changed list');
      }
    });
  };
}
