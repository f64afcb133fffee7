import type { AuditConfigInput } from '../audit/audit-config.js';
import { AuditCorruptError } from '../audit/audit-errors.js';
import { openAuditSink, type OpenAuditSinkOptions } from '../audit/open-audit-sink.js';
import type { FileAuditSink } from '../audit/file-audit-sink.js';
import { WardenError } from '../core/errors.js';

/** Another warden holds the audit log: start-up stops with what to change (exit 4, a runtime conflict). */
export class AuditFileInUseError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('audit_locked', message, options);
  }
}

/**
 * Opens the audit sink for `warden run`. A log another live warden writes (two agents launched
 * with the same config) is refused by the sink (two writers would fork the hash chain); the error
 * then says which config key to change, instead of only naming the lock. A file that does not end
 * in an audit record is refused too, named with its config key.
 */
export async function openAuditSinkFor(config: AuditConfigInput & { file: string }, configFile: string, options: OpenAuditSinkOptions): Promise<FileAuditSink> {
  try {
    return await openAuditSink(config, options);
  } catch (err) {
    if (err instanceof WardenError && err.code === 'audit_locked') {
      throw new AuditFileInUseError(
        `${configFile}: audit.file: ${err.message}. Another warden with this audit file is running (e.g. a second agent launched with the same config). Give each warden its own audit.file: one config file per agent, or stop the other warden first`,
        { cause: err },
      );
    }
    if (err instanceof AuditCorruptError) {
      // Usually audit.file names a file that is no audit log (a typo, another program's log):
      // say which key led here, as every other start-up error does.
      throw new AuditCorruptError(`${configFile}: audit.file: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
