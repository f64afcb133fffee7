import { randomUUID } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../core/canonical-json.js';
import type { Principal } from '../core/principal.js';
import type { GuardVerdict, ToolCallRequest, UpstreamOutcome } from '../core/tool-call.js';
import { blockedToolResult, unknownToolMessage } from '../core/decision-meta.js';
import { lookupTool } from './known-tools.js';
import { CallRequest, type CallRequestFields } from './call-request.js';
import { LazyAbort } from './lazy-abort.js';
import { errorResponse, RPC, type RpcRequest, type RpcResponse } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';
import { progressTokenOf } from './progress-routes.js';
import type { UpstreamConnection } from './upstream-connection.js';

const LISTED = { kind: 'listed' } as const;
const UNKNOWN = { kind: 'unknown' } as const;

/**
 * The single path every `tools/call` takes: resolve the tool, learn the principal, ask the guard,
 * and forward only on a `forward` verdict. Any failure before forwarding ends as a block.
 * Awaits only what is really asynchronous (a listing to fetch, the authenticator, a guard that
 * returns a promise): each await is a microtask hop on every call.
 */
export async function handleToolCall(session: ProxySession, request: RpcRequest): Promise<void> {
  const receivedAt = Date.now();
  const params = request.params ?? {};
  const exposedName = params.name;
  const args = params.arguments ?? {};
  if (typeof exposedName !== 'string' || typeof args !== 'object' || args === null || Array.isArray(args)) {
    session.toAgent(errorResponse(request.id, RPC.invalidParams, 'tools/call needs a string name and object arguments'));
    return;
  }
  const target = session.namespacer.resolve(exposedName);
  const upstream = target && session.connection(target.upstream);
  // Only names the upstream lists are judged and forwarded; anything else gets the same answer
  // as a hidden tool, so hidden tools cannot be told apart from missing ones.
  const lookup = !target || !upstream ? UNKNOWN : isListed(session, upstream, target.name) ? LISTED : await lookupTool(session, upstream, target.name);
  if (lookup.kind === 'error') {
    session.toAgent(errorResponse(request.id, lookup.code, lookup.message, lookup.data));
    return;
  }
  if (!target || !upstream || lookup.kind === 'unknown') {
    session.toAgent(errorResponse(request.id, RPC.invalidParams, unknownToolMessage(exposedName)));
    return;
  }
  // The upstream session the tool was looked up (and will be judged) against.
  const generation = upstream.generation;
  const callId = randomUUID();
  const principal = session.opts.channel.transport === 'http' && session.principal ? { ok: true as const, principal: session.principal } : await stdioPrincipal(session);
  if (!principal.ok) {
    // Stdio token expired or revoked since the last call: answer, never forward.
    session.toAgent({ jsonrpc: '2.0', id: request.id, result: blockedToolResult(principal.reason, callId, `Not authenticated: ${principal.reason}`) });
    return;
  }
  const controller = new LazyAbort();
  const req = buildRequest(session, request, { callId, principal: principal.principal, upstream, tool: target.name, exposedName, args, receivedAt }, controller);
  // Until the verdict arrives, an agent cancel or session end aborts the guard's signal.
  session.inFlight.set(request.id, { upstream, upstreamId: -1, onCancel: (reason) => controller.abort(reason) });
  let verdict: GuardVerdict;
  try {
    const answer = session.opts.guard.checkToolCall(req);
    verdict = checkedVerdict(isThenable(answer) ? await answer : answer);
  } catch (err) {
    // The one catch-all of the decision path: a throw, a rejection or a malformed verdict blocks.
    verdict = guardFailed(session, req, err);
  }
  if (!session.inFlight.has(request.id) || controller.aborted) {
    // Cancelled while being judged: nothing is forwarded. A forward verdict still gets its outcome,
    // so whatever the guard holds (a throttle slot) is released and the audit says what happened.
    if (verdict.kind === 'forward') verdict.onOutcome?.({ status: 'cancelled', durationMs: Date.now() - receivedAt, resultBytes: 0, resultItems: 0, result: undefined });
    return;
  }
  session.inFlight.delete(request.id);
  if (verdict.kind === 'forward' && upstream.generation !== generation) {
    // The upstream restarted while the call was judged (an approval can take minutes): the new
    // process may offer a different tool under this name, which its listing and the pins have not
    // been checked against. Fail closed; calling again looks the tool up afresh.
    try {
      verdict.onOutcome?.({ status: 'cancelled', durationMs: Date.now() - receivedAt, resultBytes: 0, resultItems: 0, result: undefined });
    } finally {
      session.toAgent(errorResponse(request.id, RPC.upstreamClosed, `upstream '${upstream.name}' restarted while this call was being judged; call it again`));
    }
    return;
  }
  applyVerdict(session, request, req, upstream, verdict, controller);
}

/** The tool is in this session's last listing of the upstream: no lookup (and no await) needed. */
function isListed(session: ProxySession, upstream: UpstreamConnection, tool: string): boolean {
  return session.toolDefinitions.get(upstream.name)?.has(tool) === true;
}

interface CallFacts {
  readonly callId: string;
  readonly principal: Principal;
  readonly upstream: UpstreamConnection;
  readonly tool: string;
  readonly exposedName: string;
  readonly args: object;
  readonly receivedAt: number;
}

function buildRequest(session: ProxySession, request: RpcRequest, f: CallFacts, controller: LazyAbort): ToolCallRequest {
  const token = progressTokenOf(request.params);
  const opts = session.opts;
  const fields: CallRequestFields = {
    callId: f.callId,
    sessionId: session.id,
    principal: f.principal,
    upstream: f.upstream.name,
    tool: f.tool,
    exposedName: f.exposedName,
    arguments: f.args as Record<string, unknown>,
    toolDefinition: session.toolDefinitions.get(f.upstream.name)?.get(f.tool),
    transport: opts.channel.transport,
    remoteAddress: opts.remoteAddress,
    userAgent: opts.userAgent,
    clientInfo: session.clientInfo,
    progressToken: token,
    receivedAt: f.receivedAt,
    sendProgress: token === undefined ? undefined : (progress, total, message) => sendProgress(session, request, token, progress, total, message),
  };
  return new CallRequest(fields, controller);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
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

function applyVerdict(
  session: ProxySession,
  request: RpcRequest,
  req: ToolCallRequest,
  upstream: UpstreamConnection,
  verdict: GuardVerdict,
  controller: LazyAbort,
): void {
  switch (verdict.kind) {
    case 'forward':
      forwardCall(session, request, req, upstream, verdict.onOutcome, controller);
      return;
    case 'respond':
      session.toAgent({ jsonrpc: '2.0', id: request.id, result: verdict.result });
      return;
    case 'error':
      session.toAgent(errorResponse(request.id, verdict.code, verdict.message, verdict.data));
      return;
    default: {
      // An unknown verdict shape is a guard bug: block (fail closed).
      const never: never = verdict;
      session.toAgent({ jsonrpc: '2.0', id: request.id, result: blockedToolResult('internal', req.callId, `Blocked: bad verdict ${String(never)}`) });
    }
  }
}

function forwardCall(
  session: ProxySession,
  request: RpcRequest,
  req: ToolCallRequest,
  upstream: UpstreamConnection,
  onOutcome: ((o: UpstreamOutcome) => void) | undefined,
  controller: LazyAbort,
): void {
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
  const params = req.tool === req.exposedName ? request.params : { ...request.params, name: req.tool };
  const token = req.progressToken;
  session.progress.open(token, request.id);
  const upstreamId = upstream.request('tools/call', params, session.opts.timeouts.callMs, (response) => {
    session.inFlight.delete(request.id);
    try {
      if (onOutcome) report(outcomeOf(response));
    } finally {
      // Whatever the upstream sent, the agent gets an answer: this runs inside the upstream's
      // message handler, where a throw would end warden.
      response.id = request.id;
      session.answerAfterProgress(token, response);
    }
  });
  session.inFlight.set(request.id, {
    upstream,
    upstreamId,
    onCancel: (reason) => {
      controller.abort(reason);
      if (token !== undefined) session.progress.forget(token);
      report({ status: 'cancelled', resultBytes: 0, resultItems: 0, result: undefined });
    },
  });
}

function outcomeOf(response: RpcResponse): Omit<UpstreamOutcome, 'durationMs'> {
  if (response.error) {
    const status = response.error.code === RPC.requestTimeout ? 'timeout' : 'error';
    return { status, resultBytes: 0, resultItems: 0, result: undefined, error: { code: response.error.code, message: response.error.message } };
  }
  const result = response.result ?? {};
  const content = Array.isArray(result.content) ? result.content.length : 0;
  const structured = result.structuredContent as Record<string, unknown> | undefined;
  let items = content;
  if (structured && typeof structured === 'object') {
    for (const v of Object.values(structured)) if (Array.isArray(v)) items += v.length;
  }
  // The canonical form has the same bytes as JSON.stringify's, in another key order: one
  // serialisation gives both the size and the audit digest.
  return { status: result.isError === true ? 'tool_error' : 'ok', resultItems: items, result, ...sizeAndDigest(result) };
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
async function stdioPrincipal(session: ProxySession): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
  try {
    const result = await session.opts.authenticator.authenticateStdio();
    if (result.ok) session.principal = result.principal;
    return result.ok ? { ok: true, principal: result.principal } : { ok: false, reason: result.reason };
  } catch {
    return { ok: false, reason: 'internal' };
  }
}

function sendProgress(session: ProxySession, request: RpcRequest, token: string | number, progress: number, total?: number, message?: string): void {
  const params: Record<string, unknown> = { progressToken: token, progress };
  if (total !== undefined) params.total = total;
  if (message !== undefined) params.message = message;
  session.toAgent({ jsonrpc: '2.0', method: 'notifications/progress', params }, request.id);
}
