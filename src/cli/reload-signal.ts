import type { Logger } from '../logging/logger.js';

/** SIGHUP handling for `warden run`: reload the policy files. */
export interface ReloadSignal {
  /** From now on SIGHUP calls `reload`; a SIGHUP that came earlier is applied now. */
  ready(reload: () => Promise<void>): void;
  /** Warden is stopping: later SIGHUPs are logged and ignored (still handled, never fatal). */
  stopping(): void;
  /** Removes the handler. */
  dispose(): void;
}

/**
 * Handles SIGHUP from the first moment of `warden run`. Without a handler, the default action of
 * a SIGHUP during start-up kills the process, with the same damage an unhandled SIGTERM does (no
 * `warden.stop`, an unclosed checkpoint). A SIGHUP that arrives before the policy can be reloaded
 * is remembered and applied once it can: the files may have changed after start-up read them.
 */
export function listenForReloadSignal(logger: Logger): ReloadSignal {
  let reload: (() => Promise<void>) | undefined;
  let pending = false;
  let stopping = false;
  const run = (): void => {
    reload?.().catch((err: unknown) => logger.error({ err: String(err) }, 'policy reload failed'));
  };
  const onHup = (): void => {
    if (stopping) return void logger.info('SIGHUP while stopping: ignored');
    if (reload) return run();
    pending = true;
    logger.info('SIGHUP during start-up: the policy is reloaded once warden has started');
  };
  process.on('SIGHUP', onHup);
  return {
    ready(fn) {
      reload = fn;
      if (pending) {
        pending = false;
        run();
      }
    },
    stopping: () => {
      stopping = true;
    },
    dispose: () => void process.off('SIGHUP', onHup),
  };
}
