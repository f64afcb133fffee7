import { REDACTED } from '../audit/redact-rules.js';
import type { DecisionEngine } from './ports.js';

/**
 * A URI as the audit records a virtual tool's `uri` argument (`resources/read` `{ uri }`): redacted
 * by the policy's paths and patterns too, not only by the sink's own rules, which know nothing of
 * the policy's. Used where a record names a URI outside `call.received` (a subscription warden
 * ends, a read the pins refuse), so one URI is not hidden in one record and in clear in another.
 * A fault hides it whole (over-redaction fails safe).
 */
export function redactedUri(engine: Pick<DecisionEngine, 'redact'>, uri: string): string {
  try {
    const v = (engine.redact({ uri }).redacted as { uri?: unknown }).uri;
    return typeof v === 'string' ? v : REDACTED;
  } catch {
    return REDACTED;
  }
}
