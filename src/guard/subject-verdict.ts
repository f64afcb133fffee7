import type { Principal } from '../core/principal.js';
import type { EvaluateResult } from '../events/registry-entry.js';
import { stricterResult } from '../events/registry-rules.js';
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
