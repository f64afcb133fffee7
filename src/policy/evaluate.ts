import { stricterAction, type Action, type Decision, type Reason, type Sensitivity } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import { anomalyReasons } from '../risk/anomalies.js';
import { scoreOf, thresholdAction } from '../risk/score.js';
import { classifyCall } from '../risk/sensitivity.js';
import type { Signals } from '../signals/signals.js';
import { SENSITIVITY_RANK, type CompiledPolicy, type CompiledRule } from './compiled-policy.js';
import { resetNfcReadings } from './nfc-reading.js';
import { resetWorkBudget } from './work-budget.js';

/** The parts of a tool call the policy looks at. A ToolCallRequest satisfies it. */
export type PolicyCall = Pick<ToolCallRequest, 'upstream' | 'tool' | 'arguments' | 'toolDefinition'>;

export interface EvaluateInput {
  readonly principal: Principal;
  readonly call: PolicyCall;
  readonly signals: Signals;
  /** ms since epoch; evaluate never reads the clock. */
  readonly now: number;
}

interface CallFacts {
  readonly principal: Principal;
  readonly args: unknown;
  readonly level: Sensitivity;
  readonly score: number;
  readonly reasons: readonly Reason[];
}

function hasAnyCode(reasons: readonly Reason[], codes: readonly string[]): boolean {
  for (const r of reasons) if (codes.includes(r.code)) return true;
  return false;
}

function fires(rule: CompiledRule, f: CallFacts): boolean {
  if (rule.principal && !rule.principal(f.principal)) return false;
  const m = rule.call;
  if (m.sensitivity && !m.sensitivity.has(f.level)) return false;
  if (m.scoreGte !== undefined && f.score < m.scoreGte) return false;
  if (m.scoreLt !== undefined && f.score >= m.scoreLt) return false;
  if (m.reasons && !hasAnyCode(f.reasons, m.reasons)) return false;
  if (m.args && !m.args(f.args)) return false;
  return true;
}

interface Outcome {
  readonly action: Action;
  readonly floors: Reason[];
}

/**
 * Combines threshold action, rule actions and floors for one set of live rules.
 * Precedence: block > approve > throttle > allow, so no rule can loosen another.
 * An `allow` rule only lifts the unclassified/high/critical floors; it never lowers a stricter result.
 */
function combine(policy: CompiledPolicy, base: Action, rules: readonly CompiledRule[], level: Sensitivity, classified: boolean, healthy: boolean): Outcome {
  let action = base;
  let explicitAllow = false;
  for (const r of rules) {
    action = stricterAction(action, r.action);
    if (r.action === 'allow') explicitAllow = true;
  }
  const floors: Reason[] = [];
  const floor = (to: Action, code: string, detail: string): void => {
    if (stricterAction(action, to) !== action) floors.push({ code, weight: 0, detail });
    action = stricterAction(action, to);
  };
  if (!classified && !explicitAllow) floor(policy.defaults.unclassifiedAction, 'policy.unclassified', 'unclassified tool without an allow rule');
  if (level === 'high' && !explicitAllow) floor(policy.defaults.high, 'policy.implicit_high', 'high sensitivity needs an explicit allow rule');
  if (level === 'critical' && !explicitAllow) floor(policy.defaults.critical, 'policy.implicit_critical', 'critical sensitivity needs an explicit allow rule');
  // Counts from an unhealthy store cannot be trusted: high-risk tools fail closed.
  if (!healthy && SENSITIVITY_RANK[level] >= SENSITIVITY_RANK.high) floor('block', 'state.unavailable', 'state store down; high-risk tool blocked');
  return { action, floors };
}

function decide(policy: CompiledPolicy, input: EvaluateInput): Decision {
  const { principal, call, signals, now } = input;
  const entry = policy.lookup(call.upstream, call.tool);
  const sens = classifyCall(policy, entry, call.arguments, call.toolDefinition);
  const reasons: Reason[] = sens.reasons;
  reasons.push({ code: `sensitivity.${sens.level}`, weight: policy.points[sens.level], detail: `tool class ${sens.toolClass}` });
  for (const r of anomalyReasons(policy.anomalies, signals, principal, sens.toolClass, now)) reasons.push(r);
  const score = scoreOf(reasons);
  const facts: CallFacts = { principal, args: call.arguments, level: sens.level, score, reasons };
  const fired: CompiledRule[] = [];
  let monitorFired = false;
  for (const r of entry.rules) {
    if (!fires(r, facts)) continue;
    fired.push(r);
    if (r.mode === 'monitor') monitorFired = true;
  }
  const base = thresholdAction(score, policy.thresholds);
  const all = combine(policy, base, fired, sens.level, sens.classified, signals.storeHealthy);
  const enforcedOutcome = monitorFired
    ? combine(policy, base, fired.filter((r) => r.mode === 'enforce'), sens.level, sens.classified, signals.storeHealthy)
    : all;
  for (const f of all.floors) reasons.push(f);
  for (const f of enforcedOutcome.floors) if (!all.floors.some((g) => g.code === f.code)) reasons.push(f);
  if (enforcedOutcome.action !== all.action) {
    const trial = fired.filter((r) => r.mode === 'monitor').map((r) => r.id);
    reasons.push({ code: 'policy.monitor_rule', weight: 0, detail: `monitor-mode rules ${trial.join(', ')} would make it ${all.action}` });
  }
  // A monitor-mode policy enforces none of its own judgements, but a state store fault is not a
  // judgement: the counts every rate and volume limit reads are missing, so high-risk calls are
  // blocked even then, as an evaluation fault is.
  const storeFault = !signals.storeHealthy && SENSITIVITY_RANK[sens.level] >= SENSITIVITY_RANK.high;
  return {
    action: all.action,
    enforced: policy.mode === 'monitor' ? (storeFault ? 'block' : 'allow') : enforcedOutcome.action,
    mode: policy.mode,
    score,
    sensitivity: sens.level,
    toolClass: sens.toolClass,
    reasons,
    rules: fired.map((r) => r.id),
    policyHash: policy.hash,
  };
}

/**
 * Judges one tool call. Pure and synchronous: no I/O, no clock (but the work budget's, which
 * can only make a decision stricter), no compilation.
 * Any internal fault becomes a block with reason `internal` (fail closed, even in monitor mode).
 */
export function evaluate(policy: CompiledPolicy, input: EvaluateInput): Decision {
  try {
    // Each decision gets its own time budget for regexes, globs and paths on long arguments (work-budget.ts).
    resetWorkBudget();
    resetNfcReadings();
    return decide(policy, input);
  } catch (err) {
    return {
      action: 'block',
      enforced: 'block',
      mode: policy.mode,
      score: 100,
      sensitivity: 'critical',
      toolClass: 'unknown',
      reasons: [{ code: 'internal', weight: 100, detail: `policy evaluation failed: ${err instanceof Error ? err.name : 'error'}` }],
      rules: [],
      policyHash: policy.hash,
    };
  } finally {
    // The NFC readings of this call's long strings are not kept past its decision.
    resetNfcReadings();
  }
}
