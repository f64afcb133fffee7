import { randomBytes } from 'node:crypto';
import type { Decision } from '../core/decision.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import type { PendingApproval } from './approval-types.js';

/**
 * What the approver is shown besides the call itself: the risk reasons. The arguments are the
 * call's own (see PendingApproval.arguments): redaction is for the audit log, not for the
 * authenticated human deciding on this call.
 */
export interface ApprovalDisplay {
  readonly reasons: readonly { readonly code: string; readonly detail: string }[];
}

/** Unguessable id; approvers use it in URLs, so it must not reveal or be derived from the call. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** Builds the storable record binding one approval to one exact call. */
export function buildPendingRecord(
  req: ToolCallRequest,
  decision: Decision,
  display: ApprovalDisplay,
  argsDigest: string,
  now: number,
  timeoutMs: number,
): PendingApproval {
  const p = req.principal;
  return {
    id: newId('apr'),
    callId: req.callId,
    sessionId: req.sessionId,
    principal: {
      issuer: p.issuer,
      user: p.user,
      actor: p.actor,
      ...(p.actorIssuer !== undefined ? { actorIssuer: p.actorIssuer } : {}),
      priorActors: [...p.priorActors],
      priorActorIssuers: p.priorActors.map((_, i) => p.priorActorIssuers?.[i] ?? null),
      clientId: p.clientId,
    },
    action: req.action,
    upstream: req.upstream,
    tool: req.tool,
    exposedName: req.exposedName,
    argsDigest,
    policyHash: decision.policyHash,
    score: decision.score,
    sensitivity: decision.sensitivity,
    rules: [...decision.rules],
    reasons: display.reasons.map((r) => ({ code: r.code, detail: r.detail })),
    arguments: req.arguments,
    createdAt: now,
    expiresAt: now + timeoutMs,
  };
}
