import { WardenError } from '../core/errors.js';

/**
 * A stop request (SIGINT/SIGTERM) arrived while the runtime was still being built. Not a fault:
 * what was built is closed and `warden.stop` recorded before this is thrown.
 */
export class StartupInterruptedError extends WardenError {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super('startup_interrupted', `start-up interrupted (${reason})`, options);
  }
}

/** The reason a stop signal was aborted with (`SIGTERM`, ...), for `warden.stop`. */
export function stopReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'stop_requested';
}

/** Called between start-up steps: a requested stop ends start-up there, before the next step. */
export function throwIfStopRequested(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StartupInterruptedError(stopReason(signal));
}

/**
 * A fetch that a stop request also cancels. Without it a key server that holds its answer keeps
 * start-up (and so the stop) waiting for the whole JWKS timeout.
 */
export function stoppableFetch(signal: AbortSignal | undefined, base: typeof fetch = fetch): typeof fetch {
  if (!signal) return base;
  return (input, init) => base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}
