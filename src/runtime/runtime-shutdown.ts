import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Logger } from '../logging/logger.js';

/** Something the runtime built and must close when it stops. */
export type Closer = () => Promise<void> | void;

/**
 * The one stop path of the runtime, for a normal stop and for a start-up cut short or failed:
 * closes the parts built so far (newest first), records `warden.stop`, then closes the audit
 * sink (fsync, checkpoint with `closed: true`, writer lock released). `closers` is read when the
 * stop runs, so parts added later during start-up are included. A second call (a second signal)
 * gets the first stop's promise: nothing is closed twice and no record follows `warden.stop`.
 */
export function runtimeShutdown(closers: readonly Closer[], audit: AuditSink, logger: Logger): (reason: string) => Promise<void> {
  let stopping: Promise<void> | undefined;
  return (reason) => {
    stopping ??= (async () => {
      for (const close of [...closers].reverse()) {
        try {
          await close();
        } catch (err) {
          logger.error({ err }, 'error while shutting down');
        }
      }
      try {
        audit.record(auditEvent('warden.stop', { reason }));
      } catch (err) {
        logger.error({ err }, 'could not record warden.stop');
      }
      await audit.close();
    })();
    return stopping;
  };
}
