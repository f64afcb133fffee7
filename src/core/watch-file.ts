import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WatchFileOptions {
  /** Called when a watch cannot be set up at all (the folder is missing or unreadable). */
  readonly onError?: (err: Error) => void;
}

/**
 * Calls `onChange` when the file at `path` changes, is replaced (editors and `warden pins accept`
 * write a temp file and rename it over), is removed, or appears. Never keeps the process alive.
 *
 * Why not simply watch the folder: every write to any other file in it wakes the event loop.
 * With the audit log beside the watched file (the default layout puts pins and audit in
 * `.warden/`) that was an extra wake-up and two reads for each of the two audit writes of every
 * call. So the file itself is watched (inotify on its inode), and the watch follows the path to
 * the new inode after a replacement. Only while the file does not exist is its folder watched,
 * until it appears. Callers debounce: one change may be reported more than once.
 */
export function watchFile(path: string, onChange: () => void, options: WatchFileOptions = {}): () => void {
  const name = basename(path);
  let closed = false;
  let fileWatcher: FSWatcher | undefined;
  let folderWatcher: FSWatcher | undefined;
  let watchedInode: number | undefined;

  const inodeNow = (): number | undefined => {
    try {
      return statSync(path).ino;
    } catch {
      return undefined;
    }
  };

  const stopFileWatch = (): void => {
    fileWatcher?.close();
    fileWatcher = undefined;
    watchedInode = undefined;
  };

  /** Watches the file's current inode; false when it does not exist (yet). */
  const watchTheFile = (): boolean => {
    const inode = inodeNow();
    if (inode === undefined) return false;
    try {
      const w = watch(path, { persistent: false }, () => onFileEvent());
      w.on('error', () => onFileEvent());
      fileWatcher = w;
      watchedInode = inode;
      return true;
    } catch {
      return false;
    }
  };

  const watchTheFolder = (): void => {
    if (folderWatcher) return;
    try {
      const w = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file !== null && file.toString() !== name) return;
        if (!watchTheFile()) return;
        w.close();
        folderWatcher = undefined;
        onChange();
      });
      w.on('error', (err) => options.onError?.(err));
      folderWatcher = w;
    } catch (err) {
      options.onError?.(err as Error);
    }
  };

  /** Any event on the watched inode: report it, and move the watch if the path now names another inode. */
  const onFileEvent = (): void => {
    if (closed) return;
    onChange();
    if (inodeNow() === watchedInode) return;
    stopFileWatch();
    if (!watchTheFile()) watchTheFolder();
  };

  if (!watchTheFile()) watchTheFolder();
  return () => {
    closed = true;
    stopFileWatch();
    folderWatcher?.close();
    folderWatcher = undefined;
  };
}
