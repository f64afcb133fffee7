import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { ControlResponse } from '../control/control-route.js';
import type { HostedRoute, SseSink } from '../control/hosted-route.js';
import type { ApprovalManager } from './approval-manager.js';
import type { AnswerResult, ApprovalAnswer, ApprovalEvent, PendingApproval } from './approval-types.js';

/** A pending approval as the control API shows it, with the time left when it was sent. */
export type PendingView = PendingApproval & { readonly expiresInMs: number };

const BindingFields = {
  argsDigest: z.string().max(200).optional(),
  policyHash: z.string().max(200).optional(),
  callId: z.string().max(200).optional(),
};
const AllowBodySchema = z.object({
  ...BindingFields,
  /** Remember for this many minutes (a just-in-time grant for this principal and tool). */
  rememberMinutes: z.number().int().min(1).max(43_200).optional(),
  /** With remember: only for calls with the same arguments digest. */
  matchArguments: z.boolean().optional(),
  /** With remember: `principal` (default) = this user through this agent; `user` = any agent of the user. */
  rememberScope: z.enum(['principal', 'user']).optional(),
});
const DenyBodySchema = z.object({ ...BindingFields, reason: z.string().max(500).optional() });

const REFUSAL_STATUS: Record<Exclude<AnswerResult, { ok: true }>['code'], number> = {
  not_found: 404,
  already_decided: 409,
  self_approval: 403,
  binding_mismatch: 409,
  invalid_answer: 400,
};

function toResponse(result: AnswerResult): ControlResponse {
  if (!result.ok) return { status: REFUSAL_STATUS[result.code], body: { error: result.code, message: result.message } };
  return { status: 200, body: { ok: true, id: result.approval.id, ...(result.grant ? { grant: result.grant } : {}) } };
}

function invalid(error: z.ZodError): ControlResponse {
  return { status: 400, body: { error: 'invalid_request', message: error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') } };
}

/** Forwards manager events to one SSE client: `pending` for new requests, `resolved` for the rest. */
function streamEvents(manager: ApprovalManager, sink: SseSink, view: (p: PendingApproval) => PendingView): void {
  const onEvent = (e: ApprovalEvent): void => {
    if (e.type === 'requested') sink.send('pending', view(e.approval));
    else if (e.type === 'answered') sink.send('resolved', { id: e.approval.id, outcome: e.answer, approver: e.approver.id });
    else if (e.type === 'timeout') sink.send('resolved', { id: e.approval.id, outcome: 'timeout' });
    else sink.send('resolved', { id: e.approval.id, outcome: 'withdrawn', reason: e.reason });
  };
  const unsubscribe = manager.subscribe(onEvent);
  sink.signal.addEventListener('abort', unsubscribe, { once: true });
  void manager.listPending().then((list) => {
    for (const p of list) sink.send('pending', view(p));
  });
}

/**
 * Control-API routes for approvals and grants. Approver tokens may use all of them; revoking a
 * grant is allowed to approvers too, since revoking only ever restricts.
 */
export function approvalRoutes(manager: ApprovalManager, options: { clock?: Clock } = {}): HostedRoute[] {
  const clock = options.clock ?? Date.now;
  const view = (p: PendingApproval): PendingView => ({ ...p, expiresInMs: Math.max(0, p.expiresAt - clock()) });
  return [
    { method: 'GET', path: '/approvals', approverAllowed: true, handle: async () => ({ status: 200, body: { approvals: (await manager.listPending()).map(view) } }) },
    { kind: 'stream', method: 'GET', path: '/approvals/stream', approverAllowed: true, open: (_input, sink) => streamEvents(manager, sink, view) },
    {
      method: 'GET',
      path: '/approvals/:id',
      approverAllowed: true,
      handle: async ({ params }) => {
        const p = await manager.getPending(params.id ?? '');
        return p ? { status: 200, body: view(p) } : { status: 404, body: { error: 'not_found', message: 'no pending approval with this id' } };
      },
    },
    {
      method: 'POST',
      path: '/approvals/:id/allow',
      approverAllowed: true,
      handle: async ({ params, body, caller }) => {
        const parsed = AllowBodySchema.safeParse(body ?? {});
        if (!parsed.success) return invalid(parsed.error);
        const b = parsed.data;
        const answer: ApprovalAnswer = b.rememberMinutes !== undefined
          ? { kind: 'allow_remember', ttlMs: b.rememberMinutes * 60_000, ...(b.matchArguments !== undefined ? { matchArguments: b.matchArguments } : {}), scope: b.rememberScope ?? 'principal' }
          : { kind: 'allow_once' };
        return toResponse(await manager.answer(params.id ?? '', answer, caller, b));
      },
    },
    {
      method: 'POST',
      path: '/approvals/:id/deny',
      approverAllowed: true,
      handle: async ({ params, body, caller }) => {
        const parsed = DenyBodySchema.safeParse(body ?? {});
        if (!parsed.success) return invalid(parsed.error);
        const { reason, ...binding } = parsed.data;
        return toResponse(await manager.answer(params.id ?? '', { kind: 'deny', ...(reason ? { reason } : {}) }, caller, binding));
      },
    },
    { method: 'GET', path: '/grants', approverAllowed: true, handle: async () => ({ status: 200, body: { grants: await manager.listGrants() } }) },
    {
      method: 'DELETE',
      path: '/grants/:id',
      approverAllowed: true,
      handle: async ({ params, caller }) => {
        const g = await manager.revokeGrant(params.id ?? '', caller);
        return g ? { status: 200, body: { ok: true, revoked: g } } : { status: 404, body: { error: 'not_found', message: 'no live grant with this id' } };
      },
    },
  ];
}
