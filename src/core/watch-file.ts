import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WatchFileOptions {
  /** Called once per outage when no watch can be set up (folder missing, file unreadable); a slow poll then takes over. */
  readonly onError?: (err: Error) => void;
  /** How often to look again while neither the file nor its folder can be watched. */
  readonly retryMs?: number;
}

const RETRY_MS = 1_000;

/**
 * Calls `onChange` when the file at `path` changes, is replaced (editors and `warden pins accept`
 * write a temp file and rename it over), is removed, or appears. Never keeps the process alive.
 *
 * Why not simply watch the folder: every write to any other file in it wakes the event loop.
 * With the audit log beside the watched file (the default layout puts pins and audit in
 * `.warden/`) that was an extra wake-up and two reads for each of the two audit writes of every
 * call. So the file itself is watched (inotify on its inode). After any event the watch is set up
 * again on the path: the path may now name another file (a replacement, or a delete and
 * re-create, which on ext4 often reuses the inode number), and a watch whose file was removed is
 * dead. While the file does not exist its folder is watched until it appears; while the folder
 * does not exist either, a slow poll looks for them. Callers debounce: one change may be reported
 * more than once.
 */
export function watchFile(path: string, onChange: () => void, options: WatchFileOptions = {}): () => void {
  const name = basename(path);
  const retryMs = options.retryMs ?? RETRY_MS;
  let closed = false;
  let fileWatcher: FSWatcher | undefined;
  let folderWatcher: FSWatcher | undefined;
  let retry: NodeJS.Timeout | undefined;
  let reportedError = false;

  const stopAll = (): void => {
    fileWatcher?.close();
    fileWatcher = undefined;
    folderWatcher?.close();
    folderWatcher = undefined;
    if (retry) clearTimeout(retry);
    retry = undefined;
  };

  /** Watches the file if it exists, else its folder, else polls; returns whether the file is watched. */
  const arm = (): boolean => {
    stopAll();
    if (closed) return false;
    try {
      const w = watch(path, { persistent: false }, () => changed());
      w.on('error', () => changed());
      fileWatcher = w;
      reportedError = false;
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // There but not watchable (permissions): say so once and look again slowly. A folder
        // watch would not help: its events would only bring us back here, once per write beside it.
        report(err as Error);
        return false;
      }
      // Not there (yet): wait for it in its folder.
    }
    try {
      const w = watch(dirname(path), { persistent: false }, () => folderEvent());
      w.on('error', () => void (closed || arm()));
      folderWatcher = w;
    } catch (err) {
      report(err as Error);
      return false;
    }
    // Created between the failed file watch and the folder watch: not missed.
    if (existsSync(path)) folderEvent();
    return false;
  };

  /** Reports a failure once per outage (until a watch works again) and polls meanwhile. */
  const report = (err: Error): void => {
    if (!reportedError) options.onError?.(err);
    reportedError = true;
    retry = setTimeout(poll, retryMs);
    retry.unref();
  };

  /** Something happened to the watched file: report it and watch whatever the path names now. */
  const changed = (): void => {
    if (closed) return;
    onChange();
    arm();
  };

  /** An event in the folder while the file is missing: the file appeared, or the folder went away. */
  const folderEvent = (): void => {
    if (closed) return;
    if (existsSync(path)) {
      if (arm()) onChange();
    } else if (!existsSync(dirname(path))) {
      arm(); // falls back to polling until the folder is back
    }
  };

  const poll = (): void => {
    if (closed) return;
    if (arm()) onChange();
  };

  arm();
  return () => {
    closed = true;
    stopAll();
  };
}
