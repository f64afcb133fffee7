import type { Action, Reason } from '../core/decision.js';

/** Score = clamp(0..100, round(sum of reason weights)). The sensitivity reason carries its points. */
export function scoreOf(reasons: readonly Reason[]): number {
  let sum = 0;
  for (const r of reasons) sum += r.weight;
  return Math.max(0, Math.min(100, Math.round(sum)));
}

/** Maps a score to an action through ascending thresholds (a threshold is inclusive). */
export function thresholdAction(score: number, t: { throttle: number; approve: number; block: number }): Action {
  if (score >= t.block) return 'block';
  if (score >= t.approve) return 'approve';
  if (score >= t.throttle) return 'throttle';
  return 'allow';
}
