import { closestName } from '../core/closest-name.js';

/**
 * The reason codes a rule's `match.reasons` can see: those evaluate() computes before it matches
 * rules (sensitivity, annotations, anomalies, the store's health). A code outside this list never
 * appears when rules are matched, so a rule naming it never fires: `reasons: [rate.tools]` (a
 * typo) turned a velocity block rule into nothing, without a word at load. The list is checked
 * against what the engine emits (test/policy/rule-reason-codes.test.ts).
 */
export const RULE_REASON_CODES = [
  'sensitivity.low',
  'sensitivity.medium',
  'sensitivity.high',
  'sensitivity.critical',
  'sensitivity.unclassified',
  'sensitivity.raised',
  'annotation.destructive',
  'annotation.non_idempotent',
  'annotation.open_world',
  'rate.tool',
  'rate.class',
  'rate.overall',
  'rate.user',
  'burst.rate',
  'burst.user',
  'volume.bytes',
  'volume.items',
  'volume.resources',
  'volume.user_bytes',
  'volume.user_items',
  'novelty.tool',
  'novelty.argument',
  'context.address_changed',
  'context.client_changed',
  'context.token_age',
  'context.auth_age',
  'context.off_hours',
  'state.unavailable',
] as const;

/** Codes a policy decision carries that are added after rules are matched: floors, trial rules, an evaluation fault. */
export const AFTER_RULE_REASON_CODES = ['policy.unclassified', 'policy.implicit_high', 'policy.implicit_critical', 'policy.monitor_rule', 'internal'] as const;

/** Every code a policy decision can carry (what a scenario may expect or expect absent). */
export const DECISION_REASON_CODES: readonly string[] = [...RULE_REASON_CODES, ...AFTER_RULE_REASON_CODES];

/**
 * Codes that exist but are added after rules are matched (see above) or outside the policy
 * (pins, security events), so no rule can match them.
 */
const AFTER_RULES = /^(policy\.|internal$|tool\.|subject\.)/;

const KNOWN: ReadonlySet<string> = new Set(RULE_REASON_CODES);

/** Why `code` cannot be matched by a rule, or undefined when it can. */
export function ruleReasonProblem(code: string): string | undefined {
  if (KNOWN.has(code)) return undefined;
  if (AFTER_RULES.test(code)) {
    return `'${code}' is added after rules are matched (or outside the policy), so no rule ever sees it; match on sensitivity, score or an anomaly code instead`;
  }
  const meant = closestName(code, RULE_REASON_CODES);
  return `unknown reason code '${code}'${meant === undefined ? '' : ` (did you mean '${meant}'?)`}; a rule on it would never fire`;
}

/** Why `code` is no code a policy decision carries (a misspelling), or undefined when it is one. */
export function decisionReasonProblem(code: string): string | undefined {
  if (DECISION_REASON_CODES.includes(code)) return undefined;
  const meant = closestName(code, DECISION_REASON_CODES);
  return `unknown reason code '${code}'${meant === undefined ? '' : ` (did you mean '${meant}'?)`}`;
}
