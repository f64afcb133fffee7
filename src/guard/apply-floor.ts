import { stricterAction, type Action, type Decision, type Reason, type Sensitivity } from '../core/decision.js';

const SENSITIVITY_RANK: Readonly<Record<Sensitivity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/** True when `s` is at or above `min`. */
export function sensitivityAtLeast(s: Sensitivity, min: Sensitivity): boolean {
  return SENSITIVITY_RANK[s] >= SENSITIVITY_RANK[min];
}

/** A minimum action imposed outside policy (security events, pinned tools), with why. */
export interface ActionFloor {
  readonly action: Action;
  readonly reasons: readonly Reason[];
  readonly rules: readonly string[];
}

/**
 * Raises a decision to at least `floor`. Floors come from security reactions, not from policy,
 * so they apply to the enforced action even when the policy runs in monitor mode.
 */
export function applyFloor(decision: Decision, floor: ActionFloor | undefined): Decision {
  if (!floor || (floor.action === 'allow' && floor.reasons.length === 0)) return decision;
  return {
    ...decision,
    action: stricterAction(decision.action, floor.action),
    enforced: stricterAction(decision.enforced, floor.action),
    reasons: [...decision.reasons, ...floor.reasons],
    rules: [...decision.rules, ...floor.rules],
  };
}

/** Combines two floors, keeping the stricter action and every reason. */
export function mergeFloors(a: ActionFloor | undefined, b: ActionFloor | undefined): ActionFloor | undefined {
  if (!a) return b;
  if (!b) return a;
  return {
    action: stricterAction(a.action, b.action),
    reasons: [...a.reasons, ...b.reasons],
    rules: [...a.rules, ...b.rules],
  };
}
