import { canonicalJson, sha256Hex } from '../core/canonical-json.js';
import { blockedToolResult } from '../core/decision-meta.js';
import type { GuardVerdict, JudgedAction, ToolCallRequest, UpstreamOutcome } from '../core/tool-call.js';
import { upstreamErrorFields } from '../core/upstream-error.js';
import type { VirtualToolName } from '../core/virtual-tools.js';
import type { AdmittedCall } from './call-request.js';
import { judgedRefusal } from './judged-refusal.js';
import { withoutForgedDecision } from './forged-decision.js';
import { errorResponse, RPC, type RpcRequest, type RpcResponse } from './json-rpc.js';
import type { LazyAbort } from './lazy-abort.js';
import type { ProxySession } from './proxy-session.js';
import type { SubscribeAnswer } from './subscribe-attempt.js';

/**
 * Carries out the guard's verdict on a judged request that is still wanted: forward it, answer,
 * or refuse (a tool result for a tool call, a JSON-RPC error for a read: judged-refusal.ts).
 */
export function applyVerdict(
  session: ProxySession,
  request: RpcRequest,
  req: ToolCallRequest,
  call: AdmittedCall,
  verdict: GuardVerdict,
  controller: LazyAbort,
): void {
  switch (verdict.kind) {
    case 'forward':
      forwardCall(session, request, req, call, verdict.onOutcome, controller);
      return;
    case 'respond':
      session.toAgent(judgedRefusal(request.id, call.action, verdict.result));
      return;
    case 'error':
      session.toAgent(errorResponse(request.id, verdict.code, verdict.message, verdict.data));
      return;
    default: {
      // An unknown verdict shape is a guard bug: block (fail closed).
      const never: never = verdict;
      session.toAgent(judgedRefusal(request.id, call.action, blockedToolResult('internal', req.callId, `Blocked: bad verdict ${String(never)}`)));
    }
  }
}

function forwardCall(
  session: ProxySession,
  request: RpcRequest,
  req: ToolCallRequest,
  call: AdmittedCall,
  onOutcome: ((o: UpstreamOutcome) => void) | undefined,
  controller: LazyAbort,
): void {
  const upstream = call.upstream;
  // Timed only for a guard that wants the outcome.
  const started = onOutcome ? process.hrtime.bigint() : 0n;
  let reported = false;
  const report = (outcome: Omit<UpstreamOutcome, 'durationMs'>): void => {
    if (reported || !onOutcome) return;
    reported = true;
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    try {
      onOutcome({ ...outcome, durationMs });
    } catch (err) {
      session.opts.logger.error({ callId: req.callId, err: String(err) }, 'onOutcome threw');
    }
  };
  // Only a subscription wants the answer: a tool call allocates nothing for it.
  const onAnswer = call.onAnswer;
  const answer = onAnswer === undefined ? undefined : (a: SubscribeAnswer): void => {
    try {
      onAnswer(a);
    } catch (err) {
      session.opts.logger.error({ callId: req.callId, err: String(err) }, 'onAnswer threw');
    }
  };
  // Its progress route was opened when the call was admitted (handleToolCall), so progress an
  // upstream forges for it while it is judged is recognised; nothing to open again here.
  const token = req.progressToken;
  call.onForward?.();
  const upstreamId = upstream.request(call.action, call.params, call.timeoutMs, (response) => {
    session.inFlight.delete(request.id);
    try {
      answer?.(answerOf(response));
      if (onOutcome) report(outcomeOf(call.action, response));
    } finally {
      // Whatever the upstream sent, the agent gets an answer: this runs inside the upstream's
      // message handler, where a throw would end warden.
      response.id = request.id;
      // Only warden's own refusals carry its decision (forged-decision.ts).
      withoutForgedDecision(response);
      session.answerAfterProgress(token, response);
    }
  });
  session.inFlight.set(request.id, {
    upstream,
    upstreamId,
    onCancel: (reason, settled) => {
      controller.abort(reason);
      // The upstream may have taken it before the cancel reached it: not known.
      answer?.('unknown');
      if (token !== undefined) session.progress.forget(token);
      report({ status: 'cancelled', resultBytes: 0, resultItems: 0, result: undefined, ...(settled ? { settled } : {}) });
    },
  });
}

/**
 * Whether the upstream answered with an error. Its `error` can be any JSON (`null`, a string):
 * only `undefined` and `null` are no error, as for outcomeOf, so the subscription and the audit
 * agree, and nothing here reads a field of what may not be an object (a throw in the upstream's
 * message handler ends warden).
 */
function answeredError(response: RpcResponse): boolean {
  return response.error !== undefined && response.error !== null;
}

function answerOf(response: RpcResponse): SubscribeAnswer {
  if (!answeredError(response)) return 'ok';
  return upstreamErrorFields(response.error).code === RPC.requestTimeout ? 'unknown' : 'refused';
}

function outcomeOf(action: JudgedAction, response: RpcResponse): Omit<UpstreamOutcome, 'durationMs'> {
  if (answeredError(response)) {
    // The upstream's error as sent can be any JSON: the audit and the signals get it checked.
    const error = upstreamErrorFields(response.error);
    const status = error.code === RPC.requestTimeout ? 'timeout' : 'error';
    return { status, resultBytes: 0, resultItems: 0, result: undefined, error };
  }
  const result = response.result ?? {};
  // The canonical form has the same bytes as JSON.stringify's, in another key order: one
  // serialisation gives both the size and the audit digest.
  if (action !== 'tools/call') return { status: 'ok', resultItems: virtualResultItems(action, result), result, ...sizeAndDigest(result) };
  const content = Array.isArray(result.content) ? result.content.length : 0;
  const structured = result.structuredContent as Record<string, unknown> | undefined;
  let items = content;
  if (structured && typeof structured === 'object') {
    for (const v of Object.values(structured)) if (Array.isArray(v)) items += v.length;
  }
  return { status: result.isError === true ? 'tool_error' : 'ok', resultItems: items, result, ...sizeAndDigest(result) };
}

/**
 * Where a virtual tool's result lists its items for the volume signals: a read's `contents`, a
 * prompt's `messages`, a completion's `completion.values` (each value names something that
 * exists); a subscription returns nothing. A Record, so a new virtual tool must say.
 */
const RESULT_ENTRIES: Readonly<Record<VirtualToolName, (result: Record<string, unknown>) => unknown>> = {
  'resources/read': (result) => result.contents,
  'prompts/get': (result) => result.messages,
  'completion/complete': (result) => {
    const completion = result.completion;
    return typeof completion === 'object' && completion !== null ? (completion as { values?: unknown }).values : undefined;
  },
  'resources/subscribe': () => undefined,
};

function virtualResultItems(action: VirtualToolName, result: Record<string, unknown>): number {
  const entries = RESULT_ENTRIES[action](result);
  return Array.isArray(entries) ? entries.length : 0;
}

/**
 * Size and audit digest from one canonical serialisation. Upstream JSON can hold what has no
 * canonical form: a number beyond double range parses as Infinity, and extreme nesting exceeds
 * the stack. Then the size is what JSON.stringify makes of it (0 if nothing) and the audit
 * digests a sanitised copy (resultEvent); the call itself is answered either way.
 */
function sizeAndDigest(result: Record<string, unknown>): { resultBytes: number; resultDigest?: string } {
  try {
    const canonical = canonicalJson(result);
    return { resultBytes: Buffer.byteLength(canonical), resultDigest: `sha256:${sha256Hex(canonical)}` };
  } catch {
    try {
      return { resultBytes: Buffer.byteLength(JSON.stringify(result) ?? '') };
    } catch {
      return { resultBytes: 0 };
    }
  }
}

/** Stdio: re-check on every call, the token may have expired or been refreshed. */
