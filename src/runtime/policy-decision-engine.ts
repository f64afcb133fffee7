import { createArgsEncoder, type EncodedArgs } from '../audit/args-encoder.js';
import { createRedactor } from '../audit/redactor.js';
import type { RedactConfig } from '../audit/audit-config.js';
import { sinkRedactRules } from '../audit/start-audit-sink.js';
import type { Decision } from '../core/decision.js';
import { andThen, type MaybePromise } from '../core/maybe-promise.js';
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
  let encoder: (value: unknown) => EncodedArgs;
  // The sink redacts what it writes again, by these rules: the encoder writes what it would.
  const sinkRules = sinkRedactRules(auditRedact);
  const refresh = (): void => {
    const policy = engine.policy();
    if (policy !== cachedFor) {
      cachedFor = policy;
      const rules = {
        paths: [...auditRedact.paths, ...policy.redact.paths],
        patterns: [...auditRedact.patterns, ...policy.redact.patterns.map((r) => r.source)],
      };
      redactor = createRedactor(rules);
      encoder = createArgsEncoder(rules, sinkRules);
    }
  };
  const currentRedactor = (): Redact => {
    refresh();
    return redactor;
  };
  const currentEncoder = (): ((value: unknown) => EncodedArgs) => {
    refresh();
    return encoder;
  };
  return {
    decide: (req: ToolCallRequest, now: number): MaybePromise<Decision> => andThen(engine.decide(req, now), (r) => r.decision),
    recheck: async (req: ToolCallRequest, now: number): Promise<Decision> => (await engine.recheck(req, now)).decision,
    observeOutcome: (req: ToolCallRequest, outcome: UpstreamOutcome, now: number) => engine.observeOutcome(req, outcome, now),
    isHidden: (principal, upstream, tool) => engine.isToolHidden(principal, upstream, tool),
    redact: (value) => currentRedactor()(value),
    encodeArgs: (value) => currentEncoder()(value),
    // Cleanup only: a store fault here blocks nothing (the record expires by itself).
    forgetSession: (sessionId) => void engine.forgetSession(sessionId).catch(() => undefined),
    policyHash: () => engine.policy().hash,
  };
}
