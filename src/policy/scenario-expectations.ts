import { closestName } from '../core/closest-name.js';
import { ConfigError } from '../core/errors.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { decisionReasonProblem } from './rule-reason-codes.js';
import type { Expect, Scenario } from './scenario-schema.js';

/**
 * Refuses expectations that could never fail. `absent: [rate.tools]` (a misspelt code) or
 * `absentRules: [velocty]` (a rule id the policy does not have) hold for every decision, so a
 * scenario written to prove that an attack is stopped passed whatever the policy did. (A
 * misspelt code under `reasons` or an unknown id under `rules` fails its step, visibly.)
 */
export function checkScenarioExpectations(s: Scenario, file: string, policy: CompiledPolicy): void {
  const ruleIds = policy.rules.map((r) => r.id);
  s.steps.forEach((step, i) => {
    for (const key of ['expect', 'expectLast'] as const) {
      const e: Expect | undefined = step[key];
      if (e === undefined || typeof e === 'string') continue;
      e.absent?.forEach((code, j) => {
        const problem = decisionReasonProblem(code);
        if (problem) throw new ConfigError(problem, { file, keyPath: `steps[${i}].${key}.absent[${j}]` });
      });
      e.absentRules?.forEach((id, j) => {
        if (ruleIds.includes(id)) return;
        const meant = closestName(id, ruleIds);
        const hint = meant === undefined ? '' : ` (did you mean '${meant}'?)`;
        throw new ConfigError(`no rule '${id}' in the scenario's policy${hint}`, { file, keyPath: `steps[${i}].${key}.absentRules[${j}]` });
      });
    }
  });
}
