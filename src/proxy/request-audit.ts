import { auditEvent, principalSummary } from '../audit/events.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';

/**
 * Requests outside tools/call that hand an upstream's data to the agent: subscribing to a
 * resource. "Who read what" must have an answer for it too. A resources/read and a prompts/get
 * are judged and audited as a tool call is (`call.*` records: resource-read.ts, prompt-get.ts).
 */
const RECORDED_METHODS = new Set(['resources/subscribe']);

/**
 * Records a data request (`request.forwarded`: principal, session, upstream, URI)
 * before it is forwarded, as a tool call's decision is. False when it cannot be recorded: the
 * agent is answered -32603 and the request goes nowhere (fail closed, like a blocked call).
 * Other requests, and sessions without an audit sink, pass untouched.
 */
export function recordedAhead(session: ProxySession, request: RpcRequest, upstream: string, params: Record<string, unknown> | undefined): boolean {
  const audit = session.opts.audit;
  if (audit === undefined || !RECORDED_METHODS.has(request.method)) return true;
  try {
    // An opened session always has its principal; without one there is no "who" to record.
    if (session.principal === undefined) throw new Error('session has no principal');
    const common = { sessionId: session.id, principal: principalSummary(session.principal), method: request.method, upstream };
    audit.record(auditEvent('request.forwarded', { ...common, uri: typeof params?.uri === 'string' ? params.uri : '' }));
    return true;
  } catch (err) {
    session.opts.logger.error({ method: request.method, err: String(err) }, 'audit unavailable: request refused');
    session.toAgent(errorResponse(request.id, RPC.internalError, 'Refused by mcp-warden: the audit trail is unavailable, so nothing is forwarded.', { reason: 'audit_unavailable' }));
    return false;
  }
}
