import type { Logger } from '../logging/logger.js';

/** A request to stop `warden run`, from a signal or from the stdio agent going away. */
export interface StopRequest {
  /** Aborted (reason: `SIGINT`, `SIGTERM`, ...) by the first request; start-up steps watch it. */
  readonly signal: AbortSignal;
  /** Resolves with the reason of the first request. */
  readonly requested: Promise<string>;
  /** Requests a stop for a reason other than a signal. Later requests are no-ops. */
  request(reason: string): void;
  /** Removes the signal handlers. */
  dispose(): void;
}

/**
 * Handles SIGINT/SIGTERM from now on. Installed before start-up begins: without a handler the
 * default action kills the process, leaving no `warden.stop`, an unclosed checkpoint, possibly
 * the audit writer lock and orphaned upstream children. A second signal while stopping is logged
 * and ignored: the stop under way flushes the audit log and stops every child within a bounded
 * time (child stdin closed, SIGTERM after 2 s, SIGKILL after 4 s); dying half-way would leave
 * exactly what the first stop prevents. SIGKILL remains for an operator who will not wait.
 */
export function listenForStopSignals(logger: Logger, signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): StopRequest {
  const controller = new AbortController();
  let resolveRequested: (reason: string) => void = () => undefined;
  const requested = new Promise<string>((resolve) => {
    resolveRequested = resolve;
  });
  const request = (reason: string): void => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    resolveRequested(reason);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) logger.warn({ signal: sig, stopping: controller.signal.reason }, 'already stopping; signal ignored');
    else request(sig);
  };
  for (const sig of signals) process.on(sig, onSignal);
  return {
    signal: controller.signal,
    requested,
    request,
    dispose: () => {
      for (const sig of signals) process.off(sig, onSignal);
    },
  };
}
