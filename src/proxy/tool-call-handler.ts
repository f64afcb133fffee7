import { randomUUID } from 'node:crypto';
import type { Principal } from '../core/principal.js';
import type { GuardVerdict, ToolCallRequest } from '../core/tool-call.js';
import { blockedToolResult, unknownToolMessage } from '../core/decision-meta.js';
import { isThenable } from '../core/maybe-promise.js';
import { CallRequest, type AdmittedCall } from './call-request.js';
import { lookupTool } from './known-tools.js';
import { LazyAbort } from './lazy-abort.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import { ABANDONED_REASON } from './http-abandoned-calls.js';
import type { InFlight, ProxySession } from './proxy-session.js';
import { progressTokenOf, type ProgressToken } from './progress-routes.js';
import { judgedRefusal } from './judged-refusal.js';
import { applyVerdict } from './tool-call-forward.js';
import { listJudgedAgainst } from '../core/definition-lists.js';
import type { UpstreamConnection } from './upstream-connection.js';
import { asksForTask, TASK_CALL_REFUSAL } from './unsupported-tasks.js';

type Authenticated = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string; readonly description?: string };
const AUTH_FAILED: Authenticated = Object.freeze({ ok: false, reason: 'internal' });

/**
 * The single path every `tools/call` takes: resolve the tool, learn the principal, ask the guard,
 * and forward only on a `forward` verdict. Any failure before forwarding ends as a block.
 * Awaits only what is really asynchronous (a listing to fetch, the authenticator, a guard that
 * returns a promise): each await is a microtask hop on every call. Never rejects: a bug in this
 * path answers -32603 and forwards nothing.
 */
export function handleToolCall(session: ProxySession, request: RpcRequest): Promise<void> {
  return handleJudged(session, request, () => admit(session, request));
}

/**
 * The path of every judged request (see handleToolCall; resource-read.ts and prompt-get.ts for the
 * requests judged as virtual tools): `admitOf` checks the request's shape and says what is judged
 * and forwarded, or answers it itself (undefined). Never rejects.
 */
export async function handleJudged(session: ProxySession, request: RpcRequest, admitOf: () => AdmittedCall | undefined): Promise<void> {
  let entry: InFlight | undefined;
  try {
    if (session.inFlight.has(request.id)) {
      // JSON-RPC ids are unique per session. A second call under the id of one still in warden
      // would take its in-flight entry: an agent cancel or the session's end would then miss the
      // first call, and its pending approval or throttle wait would outlive the session.
      session.toAgent(errorResponse(request.id, RPC.invalidRequest, 'Invalid Request: a request with this id is still in flight'));
      return;
    }
    const call = admitOf();
    if (call === undefined) return;
    // Counted before any listing: an announcement from here on means the definitions the call is
    // judged against may be old (read by the guard once the call waited: CallRequest.definitionsChanged).
    const definitions = listJudgedAgainst(call.action, call.args);
    const changesSeen = definitions === undefined ? 0 : call.upstream.definitionChanges[definitions];
    const controller = new LazyAbort();
    // Held from admission on: an agent cancel (or session end) while the tool is looked up or the
    // caller authenticated aborts the call too, which is then judged cancelled and never forwarded.
    entry = { upstream: call.upstream, upstreamId: -1, onCancel: (reason) => controller.abort(reason) };
    session.inFlight.set(request.id, entry);
    // Its progress token routes to it already, so another upstream's progress under that token is
    // recognised as forged while the call waits for its verdict (see ProxySession.onNotification).
    const token = progressTokenOf(request.params);
    if (token !== undefined) session.progress.open(token, request.id);
    // Only an upstream's own tool must be in its listing: a virtual tool is in none, its request
    // passes the pins of what it uses instead (a prompt, a resource template). Both may have to
    // list the upstream first, while the request is in flight already.
    if (call.action === 'tools/call' ? !isListed(session, call.upstream, call.tool) && !(await listedNow(session, request, call)) : call.pinsPass !== undefined && !(await call.pinsPass())) {
      return release(session, request, entry);
    }
    // The upstream session the tool was looked up (and will be judged) against.
    const generation = call.upstream.generation;
    // Changes found by listing again (no announcement) count from here: a listing this lookup made
    // is what the call is judged against, so it does not make the call's own judgement stale.
    const relistedSeen = definitions === undefined ? 0 : call.upstream.definitionChanges.relisted[definitions];
    const callId = randomUUID();
    let auth: Authenticated;
    try {
      // Stdio: re-check on every call, the token may have expired or been refreshed.
      const answer = session.opts.channel.transport === 'http' && session.principal ? { ok: true as const, principal: session.principal } : session.opts.authenticator.authenticateStdio();
      auth = isThenable(answer) ? await answer : answer;
    } catch {
      auth = AUTH_FAILED;
    }
    if (!auth.ok) {
      // Stdio token expired or revoked since the last call: answer, never forward. The description
      // is a fixed sentence per reason (no token content); for an expired token it says where a
      // fresh one goes.
      release(session, request, entry);
      const text = auth.description ? `Not authenticated: ${auth.reason}. ${auth.description}` : `Not authenticated: ${auth.reason}`;
      session.toAgent(judgedRefusal(request.id, call.action, blockedToolResult(auth.reason, callId, text)));
      return;
    }
    session.principal = auth.principal;
    const req = new CallRequest(session, request, call, callId, auth.principal, controller, { generation, definitions, changesSeen, relistedSeen });
    // HTTP: the agent closed this call's response stream while it was looked up; it is cancelled
    // (judged with an aborted signal, so an approval is withdrawn and nothing is forwarded).
    if (session.opts.channel.abandoned?.(request.id)) {
      controller.abort(ABANDONED_REASON);
      // Never answered now (afterVerdict drops a cancelled call): it is no longer open.
      session.requestEnded(request.id);
    }
    let verdict: GuardVerdict;
    try {
      const answer = session.opts.guard.checkToolCall(req);
      verdict = checkedVerdict(isThenable(answer) ? await answer : answer);
    } catch (err) {
      // The one catch-all of the decision path: a throw, a rejection or a malformed verdict blocks.
      verdict = guardFailed(session, req, err);
    }
    if (controller.aborted) release(session, request, entry);
    afterVerdict(session, request, req, call, generation, verdict, controller);
    // Not forwarded (blocked, answered, cancelled): no upstream progress belongs to it.
    if (token !== undefined && (session.inFlight.get(request.id)?.upstreamId ?? -1) < 0) forgetRoute(session, request, token);
  } catch (err) {
    // A bug here must neither crash warden (unhandled rejection) nor leave the agent waiting.
    session.opts.logger.error({ method: request.method, err: String(err) }, 'request handler failed');
    // Not forwarded: its entry goes, or the id would stay "in flight" for the session's life (a
    // reuse refused, a cancel routed to nothing). A forwarded call keeps it: the upstream's answer
    // (or the call's deadline) still ends it.
    if (entry !== undefined && entry.upstreamId < 0) release(session, request, entry);
    session.toAgent(errorResponse(request.id, RPC.internalError, 'internal error'));
  }
}

/** The call ends without being forwarded: its in-flight entry goes (unless the id was reused since). */
function release(session: ProxySession, request: RpcRequest, entry: InFlight): void {
  if (session.inFlight.get(request.id) === entry) session.inFlight.delete(request.id);
  const token = progressTokenOf(request.params);
  if (token !== undefined) forgetRoute(session, request, token);
}

/** Drops the progress route of a call that ends here, unless the token now routes elsewhere. */
function forgetRoute(session: ProxySession, request: RpcRequest, token: ProgressToken): void {
  if (session.progress.routeOf(token) === request.id) session.progress.forget(token);
}

/** Checks the call's shape and resolves its tool; undefined when it was answered here. */
function admit(session: ProxySession, request: RpcRequest): AdmittedCall | undefined {
  const receivedAt = Date.now();
  const params = request.params ?? {};
  const exposedName = params.name;
  const args = params.arguments ?? {};
  if (typeof exposedName !== 'string' || typeof args !== 'object' || args === null || Array.isArray(args)) {
    session.toAgent(errorResponse(request.id, RPC.invalidParams, 'tools/call needs a string name and object arguments'));
    return undefined;
  }
  if (asksForTask(params)) {
    // Its result would come back through tasks/result, past the guard (unsupported-tasks.ts).
    session.toAgent(errorResponse(request.id, RPC.invalidParams, TASK_CALL_REFUSAL));
    return undefined;
  }
  const target = session.namespacer.resolve(exposedName);
  const upstream = target && session.connection(target.upstream);
  if (!target || !upstream) {
    // Only names the upstream lists are judged and forwarded; anything else gets the same answer
    // as a hidden tool, so hidden tools cannot be told apart from missing ones.
    session.toAgent(errorResponse(request.id, RPC.invalidParams, unknownToolMessage(exposedName)));
    return undefined;
  }
  // Forwarded under the upstream's own name (namespacing strips the prefix).
  const routed = target.name === exposedName ? request.params : { ...request.params, name: target.name };
  const timeoutMs = session.opts.timeouts.callMs;
  return { action: 'tools/call', upstream, tool: target.name, exposedName, args: args as Record<string, unknown>, receivedAt, params: routed, timeoutMs };
}

/** The tool is in this session's last listing of the upstream: no lookup (and no await) needed. */
function isListed(session: ProxySession, upstream: UpstreamConnection, tool: string): boolean {
  return session.toolDefinitions.get(upstream.name)?.has(tool) === true;
}

/** Lists the upstream to learn whether it offers the tool; false when the call was answered here. */
async function listedNow(session: ProxySession, request: RpcRequest, call: AdmittedCall): Promise<boolean> {
  const lookup = await lookupTool(session, call.upstream, call.tool);
  if (lookup.kind === 'error') {
    session.toAgent(errorResponse(request.id, lookup.code, lookup.message, lookup.data));
    return false;
  }
  if (lookup.kind === 'unknown') {
    session.toAgent(errorResponse(request.id, RPC.invalidParams, unknownToolMessage(call.exposedName)));
    return false;
  }
  return true;
}

/** A verdict arrived: act on it unless the call was cancelled or its upstream restarted meanwhile. */
function afterVerdict(session: ProxySession, request: RpcRequest, req: ToolCallRequest, call: AdmittedCall, generation: number, verdict: GuardVerdict, controller: LazyAbort): void {
  const cancelled = { status: 'cancelled', resultBytes: 0, resultItems: 0, result: undefined } as const;
  if (!session.inFlight.has(request.id) || controller.aborted) {
    // Cancelled while being judged: nothing is forwarded. A forward verdict still gets its outcome,
    // so whatever the guard holds (a throttle slot) is released and the audit says what happened.
    if (verdict.kind === 'forward') verdict.onOutcome?.({ ...cancelled, durationMs: Date.now() - call.receivedAt });
    return;
  }
  session.inFlight.delete(request.id);
  if (verdict.kind === 'forward' && call.upstream.generation !== generation) {
    // The upstream restarted while the call was judged (an approval can take minutes): the new
    // process may offer a different tool under this name, which its listing and the pins have not
    // been checked against. Fail closed; calling again looks the tool up afresh. Warden's guard
    // refuses such a call itself, before it writes `call.forwarded` (upstreamRestarted); this
    // stands for a guard hook that does not check.
    try {
      verdict.onOutcome?.({ ...cancelled, durationMs: Date.now() - call.receivedAt });
    } finally {
      session.toAgent(errorResponse(request.id, RPC.upstreamClosed, `upstream '${call.upstream.name}' restarted while this call was being judged; call it again`));
    }
    return;
  }
  applyVerdict(session, request, req, call, verdict, controller);
}

/** The guard's answer if it is a verdict; a throw otherwise (caught by the caller: block). */
function checkedVerdict(verdict: unknown): GuardVerdict {
  if (!isVerdict(verdict)) throw new Error('guard returned a malformed verdict');
  return verdict;
}

/** A failing guard blocks, it never forwards. */
function guardFailed(session: ProxySession, req: ToolCallRequest, err: unknown): GuardVerdict {
  session.opts.logger.error({ callId: req.callId, err: String(err) }, 'guard failed; call blocked');
  return { kind: 'respond', result: blockedToolResult('internal', req.callId, 'Blocked by mcp-warden: internal error while judging this call') };
}

function isVerdict(v: unknown): v is GuardVerdict {
  if (typeof v !== 'object' || v === null) return false;
  const kind = (v as { kind?: unknown }).kind;
  if (kind === 'forward') return true;
  if (kind === 'respond') return typeof (v as { result?: unknown }).result === 'object' && (v as { result?: unknown }).result !== null;
  return kind === 'error' && typeof (v as { code?: unknown }).code === 'number';
}
