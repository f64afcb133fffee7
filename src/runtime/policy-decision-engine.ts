import { createRedactor } from '../audit/redactor.js';
import type { RedactConfig } from '../audit/audit-config.js';
import type { Decision } from '../core/decision.js';
import type { ToolCallRequest, UpstreamOutcome } from '../core/tool-call.js';
import type { DecisionEngine } from '../guard/ports.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import type { PolicyEngine } from '../policy/policy-engine.js';

type Redact = DecisionEngine['redact'];

/**
 * Adapts the policy engine to the guard's DecisionEngine port. Redaction merges the audit
 * config's rules with the policy's own `redact`, rebuilt only when a reload changes the policy.
 */
export function policyDecisionEngine(engine: PolicyEngine, auditRedact: RedactConfig): DecisionEngine {
  let cachedFor: CompiledPolicy | undefined;
  let redactor: Redact = createRedactor(auditRedact);
  const currentRedactor = (): Redact => {
    const policy = engine.policy();
    if (policy !== cachedFor) {
      cachedFor = policy;
      redactor = createRedactor({
        paths: [...auditRedact.paths, ...policy.redact.paths],
        patterns: [...auditRedact.patterns, ...policy.redact.patterns.map((r) => r.source)],
      });
    }
    return redactor;
  };
  return {
    async decide(req: ToolCallRequest, now: number): Promise<Decision> {
      return (await engine.decide(req, now)).decision;
    },
    observeOutcome: (req: ToolCallRequest, outcome: UpstreamOutcome, now: number) => engine.observeOutcome(req, outcome, now),
    isHidden: (principal, upstream, tool) => engine.isToolHidden(principal, upstream, tool),
    redact: (value) => currentRedactor()(value),
  };
}
