import { canonicalJson } from '../core/canonical-json.js';
import type { Principal } from '../core/principal.js';
import type { EvaluateResult } from '../events/registry-entry.js';
import type { Decision } from '../core/decision.js';
import { evaluationVerdict, stricterResult } from '../events/registry-rules.js';
import type { SubjectGate } from './ports.js';

const OK: EvaluateResult = { kind: 'ok' };

/**
 * The registry's verdict on a caller. A claims override may have rewritten what a revocation
 * or a step-up matched on (an e-mail address, a device id): the token as presented is looked at
 * too, and the stricter verdict holds, so a later claims change can never lift either.
 */
export function subjectVerdict(subjects: SubjectGate | undefined, effective: Principal, presented: Principal, sessionId: string, now: number): EvaluateResult {
  if (!subjects) return OK;
  const result = subjects.evaluate(effective, sessionId, now);
  if (result.kind === 'revoked' || effective === presented) return result;
  return stricterResult(result, subjects.evaluate(presented, sessionId, now));
}

/**
 * Whether a stdio session's principal, revoked or not, may make a request other than a tool
 * call (a listing, a resource read, a prompt): undefined admits it, else the reason code it is
 * refused with, `token_revoked`, the code an HTTP request with a revoked token gets. Step-ups
 * concern tool calls at a sensitivity and leave these requests alone.
 */
export function requestStanding(subjects: SubjectGate | undefined, principal: Principal, sessionId: string, now: number): 'token_revoked' | undefined {
  if (!subjects) return undefined;
  const effective = subjects.effectivePrincipal(principal, sessionId, now);
  return subjectVerdict(subjects, effective, principal, sessionId, now).kind === 'revoked' ? 'token_revoked' : undefined;
}

/**
 * Why a call that waited in warden (throttle queue, a human's answer) must not go on, judged
 * with the subject's standing now: revoked; or a step-up for its sensitivity that this call does
 * not satisfy, one that blocks, or one that asks for a human when none approved this call (it
 * only waited for a throttle token, or a remembered grant answered: `byGrant`). Undefined: forward it.
 */
export function refusalAfterWait(subject: EvaluateResult, decision: Decision, byGrant = false): 'revoked' | 'step_up_required' | undefined {
  if (subject.kind === 'revoked') return 'revoked';
  const stepUp = evaluationVerdict(subject, decision.sensitivity);
  if (stepUp === undefined) return undefined;
  return stepUp.action === 'block' || decision.enforced !== 'approve' || byGrant ? 'step_up_required' : undefined;
}

/**
 * Whether a token-claims-change came into force for the caller while its call waited in warden
 * (throttle queue, a human's answer): `decidedAs` is the principal the call was judged as (the
 * presented token with the overrides in force then), compared with the presented token under the
 * overrides in force now, by what an override can change (scopes, acr, claims). The call was
 * judged, and shown to an approver, with claims (a group, a scope) the IdP has since withdrawn:
 * forwarded, it would run on them while every later request of the token is judged without.
 */
export function claimsChangedSince(subjects: SubjectGate | undefined, decidedAs: Principal, presented: Principal, sessionId: string, now: number): boolean {
  if (!subjects) return false;
  const current = subjects.effectivePrincipal(presented, sessionId, now);
  if (current === decidedAs) return false;
  return overridable(current) !== overridable(decidedAs);
}

function overridable(p: Principal): string {
  return canonicalJson([p.scopes, p.acr ?? null, p.claims]);
}
