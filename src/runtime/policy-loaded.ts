import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Logger } from '../logging/logger.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { warnPolicyMode } from './policy-checks.js';

export interface PolicyLoadedDeps {
  readonly audit: AuditSink;
  readonly logger: Logger;
  /** The policy files, as the audit record names them. */
  readonly files: readonly string[];
  /** Withdraws approvals and grants not made under `policyHash`; undefined until enforcement exists. */
  readonly withdrawStale: () => ((policyHash: string) => void) | undefined;
  /** Re-judges standing resource subscriptions under the policy now in force; undefined until the proxy runs. */
  readonly recheckStanding?: () => (() => Promise<void>) | undefined;
}

/**
 * What happens when a policy takes effect (the policy holder's `onLoad`): a warning for monitor
 * mode, the `policy.loaded` audit record and, on a reload, the withdrawal of pending approvals
 * and remembered grants of the previous policy and the re-check of standing subscriptions.
 */
export function policyLoadedListener(deps: PolicyLoadedDeps): (policy: CompiledPolicy, previous: CompiledPolicy | undefined) => void {
  return (p, previous) => {
    warnPolicyMode(p, previous, deps.logger);
    // `mode` on the record: an auditor sees when enforcement was off (monitor) and when it came back.
    try {
      deps.audit.record(auditEvent('policy.loaded', { file: deps.files.join(','), policyHash: p.hash, rules: p.rules.length, reload: previous !== undefined, mode: p.mode }));
    } finally {
      // The new policy is in force whether or not its record could be written (the holder logs
      // that failure): approvals asked under the old one must go either way, or an approver's
      // "allow" after the audit outage forwards a call the new policy may block.
      if (previous !== undefined) {
        deps.withdrawStale()?.(p.hash);
        // Standing subscriptions were judged by the old rules: those the new ones refuse end.
        deps.recheckStanding?.()?.().catch((err: unknown) => deps.logger.error({ err: String(err) }, 're-check of standing subscriptions failed'));
      }
    }
  };
}
