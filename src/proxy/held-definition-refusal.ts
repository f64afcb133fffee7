import { auditEvent, principalSummary } from '../audit/events.js';
import { REDACTED } from '../audit/redact-rules.js';
import { errorResponse, RPC, type RpcRequest } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';

/**
 * What a refused request used: a prompt, or a URI (or a template's own) under a resource template;
 * or, for a URI too long to judge against the templates, its length and the limit.
 */
export type HeldSubject =
  | { readonly prompt: string }
  | { readonly uri: string; readonly resourceTemplate: string }
  | { readonly uriLength: number; readonly limit: number };

/**
 * Refuses a request that would use a definition the pins hold (prompts/get of a held prompt, a
 * read of or subscription to a URI through a held resource template, a completion of either): one `request.refused` record
 * naming the upstream's own definition, and -32602 with the reason under `data.reason`, as an
 * unknown or withheld tool is answered. Nothing is forwarded.
 */
export function refuseHeldDefinition(session: ProxySession, request: RpcRequest, upstream: string, subject: HeldSubject, reason: string, message: string, data: Record<string, unknown> = {}): void {
  try {
    if (session.principal === undefined) throw new Error('session has no principal');
    const recorded = 'uri' in subject ? { ...subject, uri: auditedUri(session, subject.uri) } : subject;
    session.opts.audit?.record(auditEvent('request.refused', { sessionId: session.id, principal: principalSummary(session.principal), method: request.method, upstream, ...recorded, reason }));
  } catch (err) {
    // Refused either way; the sink reports itself unhealthy and blocks what needs a record.
    session.opts.logger.error({ err: String(err), method: request.method, reason }, 'could not audit a refused request');
  }
  session.toAgent(errorResponse(request.id, RPC.invalidParams, message, { reason, ...data }));
}

/**
 * The URI as `call.received` would record it had the request been judged: redacted by the
 * policy too (the guard's auditedUri), not only by the sink's own rules. A fault hides it whole.
 */
function auditedUri(session: ProxySession, uri: string): string {
  const redact = session.opts.guard.auditedUri;
  if (redact === undefined) return uri;
  try {
    const redacted = redact(uri);
    return typeof redacted === 'string' ? redacted : REDACTED;
  } catch {
    return REDACTED;
  }
}
