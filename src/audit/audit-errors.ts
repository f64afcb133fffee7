import { WardenError } from '../core/errors.js';

/**
 * The audit sink cannot write (disk full, I/O error, file removed). Callers must block the call:
 * an unaudited forward is exactly what the trail exists to prevent.
 */
export class AuditUnavailableError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('audit_unavailable', message, options);
  }
}

/**
 * A log file the readers (tail, show, query, stats) cannot read: missing after all, unreadable,
 * or not a regular file. An input problem (CLI exit 3), not a fault of warden's.
 */
export class AuditUnreadableError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('audit_unreadable', message, options);
  }
}

/** The existing log cannot be continued safely (its last complete line is not a record). */
export class AuditCorruptError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('audit_corrupt', message, options);
  }
}
