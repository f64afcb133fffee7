/** The four things warden can do with a tool call, in increasing order of restriction. */
export type Action = 'allow' | 'throttle' | 'approve' | 'block';

export const ACTION_SEVERITY: Readonly<Record<Action, number>> = {
  allow: 0,
  throttle: 1,
  approve: 2,
  block: 3,
};

/** Picks the stricter of two actions: block beats approve beats throttle beats allow. */
export function stricterAction(a: Action, b: Action): Action {
  return ACTION_SEVERITY[a] >= ACTION_SEVERITY[b] ? a : b;
}

export type Sensitivity = 'low' | 'medium' | 'high' | 'critical';

/** One named contribution to a score, so every decision can be explained. */
export interface Reason {
  /** Stable machine code, e.g. `sensitivity.high`, `rate.tool`, `novelty.tool`. */
  readonly code: string;
  /** Points this reason added to the score. */
  readonly weight: number;
  /** Short human-readable explanation without secrets. */
  readonly detail: string;
}

export type DecisionMode = 'enforce' | 'monitor';

export interface Decision {
  /** What policy decided. */
  readonly action: Action;
  /** What is actually enforced: equals `action` in enforce mode, `allow` in monitor mode. */
  readonly enforced: Action;
  readonly mode: DecisionMode;
  /** 0..100 */
  readonly score: number;
  readonly sensitivity: Sensitivity;
  /** Class of the tool for throttle keys and reporting (a policy-defined name, or the sensitivity). */
  readonly toolClass: string;
  readonly reasons: readonly Reason[];
  /** Ids of the rules that fired. */
  readonly rules: readonly string[];
  /** Hash of the policy version that produced this decision. */
  readonly policyHash: string;
}
