import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { toWardenError, type WardenError } from '../core/errors.js';
import { watchFile } from '../core/watch-file.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { loadPolicy, loadPolicySync } from './load-policy.js';

export type ReloadResult =
  | { readonly ok: true; readonly policy: CompiledPolicy; readonly changed: boolean }
  | { readonly ok: false; readonly error: WardenError };

export interface PolicyHolderOptions {
  readonly files: readonly string[];
  readonly logger?: Logger;
  /** Called after the first load and after every reload that changed the policy (new hash). */
  readonly onLoad?: (policy: CompiledPolicy, previous: CompiledPolicy | undefined) => void;
  /** Called when a reload fails; the previous policy keeps running. */
  readonly onError?: (error: WardenError) => void;
  /**
   * Extra validation against the runtime config (e.g. claims the identity section provides). A
   * throw rejects the policy like a load error: start-up fails, a reload keeps the running policy.
   */
  readonly check?: (policy: CompiledPolicy) => void;
  /** Watch the files and reload on change (default true). */
  readonly watch?: boolean;
  readonly debounceMs?: number;
}

export interface PolicyHolder {
  /** The policy in force now. Swapped atomically; never undefined. */
  current(): CompiledPolicy;
  /** Reloads every file; an invalid result keeps the running policy and reports why. */
  reload(): Promise<ReloadResult>;
  /** Stops watching. */
  close(): void;
}

/**
 * Loads the policy files (synchronously, so start-up fails fast with a ConfigError naming file
 * and key), then keeps them current: a watch on each file that follows replacements by rename
 * (watchFile), debounced, plus reload() for SIGHUP.
 */
export function createPolicyHolder(options: PolicyHolderOptions): PolicyHolder {
  const files = options.files.map((f) => resolve(f));
  // Taken before the files are read: a change between this read and the watch being set up
  // (compiling a large policy takes a while) has no event to report it; see below.
  const stampsBeforeLoad = files.map(stampOf);
  let policy = loadPolicySync(files);
  options.check?.(policy);
  options.onLoad?.(policy, undefined);
  options.logger?.info({ policyHash: policy.hash, version: policy.version, files }, 'policy loaded');
  let inFlight: Promise<ReloadResult> | undefined;
  let again = false;

  async function loadOnce(): Promise<ReloadResult> {
    let next: CompiledPolicy;
    try {
      next = await loadPolicy(files);
      options.check?.(next);
    } catch (err) {
      const error = toWardenError(err);
      // Fail safe: the old, valid policy stays in force; the operator is told why.
      options.logger?.error({ err: error.message, code: error.code, policyHash: policy.hash }, 'policy reload failed; keeping previous policy');
      tell(() => options.onError?.(error));
      return { ok: false, error };
    }
    const previous = policy;
    // An unchanged policy (same hash) keeps the running instance and its warm lookup memo.
    if (next.hash === previous.hash) return { ok: true, policy: previous, changed: false };
    policy = next;
    options.logger?.info({ policyHash: next.hash, previous: previous.hash, version: next.version }, 'policy reloaded');
    tell(() => options.onLoad?.(next, previous));
    return { ok: true, policy: next, changed: true };
  }

  /**
   * Runs a listener (the audit records of loads and failures). A listener that throws (an
   * unhealthy audit sink) must neither turn a reload that took effect into a "failed" one nor
   * reject the watcher's promise, which would end the process.
   */
  function tell(listener: () => void): void {
    try {
      listener();
    } catch (err) {
      options.logger?.error({ err: String(err), policyHash: policy.hash }, 'policy load or failure could not be recorded');
    }
  }

  async function reload(): Promise<ReloadResult> {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      let result = await loadOnce();
      while (again) {
        again = false;
        result = await loadOnce();
      }
      return result;
    })();
    try {
      return await inFlight;
    } finally {
      inFlight = undefined;
    }
  }

  const stopWatching = options.watch === false ? () => {} : watchFiles(files, options.debounceMs ?? 200, reload, options.logger);
  if (options.watch !== false && files.some((file, i) => stampOf(file) !== stampsBeforeLoad[i])) {
    // Changed after it was read and before it was watched: load it now, as the watch would have.
    void reload().catch((err: unknown) => options.logger?.error({ err: String(err) }, 'policy reload failed'));
  }

  return {
    current: () => policy,
    reload,
    close: stopWatching,
  };
}

/** What identifies a file's content for a change check: times, size and inode ('missing' when absent). */
function stampOf(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

/**
 * Watches each file (following replacements by rename, see watchFile) and calls `onChange` once
 * per burst of events. Returns a stop function.
 */
function watchFiles(files: readonly string[], debounceMs: number, onChange: () => Promise<unknown>, logger?: Logger): () => void {
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void onChange().catch((err: unknown) => logger?.error({ err: String(err) }, 'policy reload failed')), debounceMs);
  };
  const stops = [...new Set(files)].map((file) => watchFile(file, changed, { onError: (err) => logger?.warn({ err: String(err), file }, 'policy watch error') }));
  return () => {
    clearTimeout(timer);
    for (const stop of stops) stop();
  };
}
