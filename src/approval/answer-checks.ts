import type { AnswerResult, ApprovalAnswer, ApproverIdentity, PendingApproval } from './approval-types.js';

/** What the approver saw, sent back with the answer so it cannot land on a different call. */
export interface AnswerBinding {
  readonly argsDigest?: string;
  readonly policyHash?: string;
  readonly callId?: string;
}

const MAX_REASON = 500;

/**
 * Checks an answer before it may claim the approval. Returns the refusal, or undefined when fine.
 * Refusals do not consume the approval: a legitimate approver can still answer.
 */
export function checkAnswer(
  record: PendingApproval,
  answer: ApprovalAnswer,
  approver: ApproverIdentity,
  binding: AnswerBinding | undefined,
): (AnswerResult & { ok: false }) | undefined {
  // Self-approval: an identified approver may not answer a call they are a party to: made on
  // their own behalf (the user), or made by them as an agent (the acting agent or a prior actor
  // of the delegation chain, or the OAuth client the token was issued to: an agent holding a plain
  // user token has no `act` and is known by its client_id only), so an agent holding an approver
  // credential cannot approve itself.
  if (approver.kind === 'approver' && partiesOf(record.principal).includes(approver.id)) {
    return { ok: false, code: 'self_approval', message: 'an approver cannot answer a call they are a party to (as the user, an agent in its delegation chain or its client)' };
  }
  if (binding?.argsDigest !== undefined && binding.argsDigest !== record.argsDigest) {
    return { ok: false, code: 'binding_mismatch', message: 'arguments digest does not match the pending call' };
  }
  if (binding?.policyHash !== undefined && binding.policyHash !== record.policyHash) {
    return { ok: false, code: 'binding_mismatch', message: 'policy version does not match the pending call' };
  }
  if (binding?.callId !== undefined && binding.callId !== record.callId) {
    return { ok: false, code: 'binding_mismatch', message: 'call id does not match the pending call' };
  }
  if (answer.kind === 'deny' && answer.reason !== undefined && answer.reason.length > MAX_REASON) {
    return { ok: false, code: 'invalid_answer', message: `deny reason longer than ${MAX_REASON} characters` };
  }
  if (answer.kind === 'allow_remember' && !(Number.isInteger(answer.ttlMs) && answer.ttlMs > 0)) {
    return { ok: false, code: 'invalid_answer', message: 'remember duration must be a positive whole number of ms' };
  }
  return undefined;
}

/** Everyone the call is made by or for: the user, the acting agent, the prior actors, the client. */
export function partiesOf(p: { readonly user: string; readonly actor: string | undefined; readonly priorActors: readonly string[]; readonly clientId?: string | undefined }): string[] {
  return [p.user, ...(p.actor !== undefined ? [p.actor] : []), ...(p.priorActors ?? []), ...(p.clientId !== undefined ? [p.clientId] : [])];
}
