import type { AuditSink } from '../audit/audit-sink.js';
import type { Clock } from '../core/clock.js';
import type { Decision } from '../core/decision.js';
import { WardenError } from '../core/errors.js';
import type { Guard, GuardVerdict, SessionInfo, ToolCallRequest, ToolDefinition, UpstreamOutcome } from '../core/tool-call.js';
import type { Logger } from '../logging/logger.js';
import { applyFloor, mergeFloors, sensitivityAtLeast, type ActionFloor } from './apply-floor.js';
import { emergencyBlockResult } from './emergency-block.js';
import type { DecisionEngine, Enforcer, PinGate, SessionTracker, SubjectGate } from './ports.js';
import { principalSummary } from './principal-summary.js';

export interface GuardDeps {
  readonly engine: DecisionEngine;
  readonly enforcer: Enforcer;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly subjects?: SubjectGate;
  readonly pins?: PinGate;
  readonly sessions?: SessionTracker;
  /** A decision slower than this is treated as a fault and blocks (fail closed). */
  readonly decisionBudgetMs?: number;
}

export interface GuardStats {
  internalErrors: number;
  decisions: number;
}

/**
 * Composes identity-derived principal, security events, pins, risk/policy and enforcement into
 * the one hook the proxy calls for every tools/call. Holds the only catch-all of the decision
 * path, and it blocks.
 */
export function createGuard(deps: GuardDeps): Guard & { readonly stats: GuardStats } {
  const stats: GuardStats = { internalErrors: 0, decisions: 0 };
  const budgetMs = deps.decisionBudgetMs ?? 250;

  async function checkToolCall(req: ToolCallRequest): Promise<GuardVerdict> {
    try {
      return await judge(req);
    } catch (err) {
      return failClosed(req, err);
    }
  }

  function failClosed(req: ToolCallRequest, err: unknown): GuardVerdict {
    stats.internalErrors += 1;
    const code = err instanceof WardenError ? err.code : 'internal';
    const message = err instanceof Error ? err.message : String(err);
    deps.logger.error({ callId: req.callId, code, err: message }, 'decision path failed: call blocked');
    try {
      deps.audit.record({ type: 'call.error', callId: req.callId, sessionId: req.sessionId, stage: 'guard', code, message });
    } catch {
      // The audit sink is itself the failure (or also failing): blocking is all that is left.
    }
    const text =
      code === 'audit_unavailable'
        ? 'Blocked by mcp-warden: the audit trail is unavailable, so no call can be forwarded.'
        : 'Blocked by mcp-warden: an internal error occurred while judging this call.';
    return { kind: 'respond', result: emergencyBlockResult(req.callId, code, text) };
  }

  async function judge(req: ToolCallRequest): Promise<GuardVerdict> {
    const now = deps.clock();
    const { principal } = req;
    if (deps.engine.isHidden(principal, req.upstream, req.tool)) {
      deps.audit.record({ type: 'call.decision', callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', hidden: true, tool: req.tool, upstream: req.upstream });
      return { kind: 'error', code: -32602, message: `Unknown tool: ${req.exposedName}` };
    }
    const args = deps.engine.redact(req.arguments);
    deps.audit.record({
      type: 'call.received',
      callId: req.callId,
      sessionId: req.sessionId,
      principal: principalSummary(principal, now),
      upstream: req.upstream,
      tool: req.tool,
      argsDigest: args.digest,
      arguments: args.redacted,
      transport: req.transport,
      remoteAddress: req.remoteAddress ?? null,
    });

    const subject = deps.subjects ? await deps.subjects.evaluate(principal, req.sessionId, now) : { kind: 'ok' as const };
    if (subject.kind === 'revoked') {
      deps.audit.record({ type: 'call.decision', callId: req.callId, sessionId: req.sessionId, action: 'block', enforced: 'block', reason: 'revoked', eventId: subject.eventId });
      const result = deps.enforcer.blockResult(req, 'revoked', `Blocked by mcp-warden: ${subject.reason}. Sign in again to get a new token.`);
      return { kind: 'respond', result };
    }

    const pinFloor = pinFloorFor(req);
    const started = process.hrtime.bigint();
    const base = await deps.engine.decide(req, pinFloor?.scanReasons ?? [], now);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (elapsedMs > budgetMs) {
      // A decision that blew its budget is not trusted: the engine may be under attack (e.g. pathological input).
      throw new WardenError('decision_budget_exceeded', `decision took ${elapsedMs.toFixed(1)} ms (budget ${budgetMs} ms)`);
    }
    const stepUpFloor: ActionFloor | undefined =
      subject.kind === 'step_up' && sensitivityAtLeast(base.sensitivity, subject.minSensitivity)
        ? { action: subject.action, reasons: [{ code: 'event.step_up', weight: 0, detail: subject.reason }], rules: [`event:${subject.eventId}`] }
        : undefined;
    const decision = applyFloor(base, mergeFloors(pinFloor?.floor, stepUpFloor));
    recordDecision(req, decision);
    deps.sessions?.recordCall(req.sessionId, decision.score, decision.enforced);

    const verdict = await deps.enforcer.enforce(req, decision, { redactedArguments: args.redacted });
    return verdict.kind === 'forward' ? forwardWithAudit(req, decision, verdict) : verdict;
  }

  function pinFloorFor(req: ToolCallRequest): { floor: ActionFloor | undefined; scanReasons: ActionFloor['reasons'] } | undefined {
    const pins = deps.pins;
    if (!pins) return undefined;
    const scanReasons = req.toolDefinition?.description ? pins.scanDescription(req.toolDefinition.description) : [];
    const pin = pins.check(req.upstream, req.tool);
    switch (pin.kind) {
      case 'pinned':
        return { floor: undefined, scanReasons };
      case 'changed':
        return {
          floor: { action: pins.onChange, reasons: [{ code: 'tool.definition_changed', weight: 0, detail: 'tool definition changed since it was pinned' }], rules: ['pins:changed'] },
          scanReasons,
        };
      case 'new':
        return {
          floor: { action: pins.onNew, reasons: [{ code: 'tool.new', weight: 0, detail: 'tool appeared after the first listing' }], rules: ['pins:new'] },
          scanReasons,
        };
      default: {
        const never: never = pin;
        throw new WardenError('internal', `unknown pin verdict ${String(never)}`);
      }
    }
  }

  function recordDecision(req: ToolCallRequest, d: Decision): void {
    stats.decisions += 1;
    deps.audit.record({ type: 'call.risk', callId: req.callId, sessionId: req.sessionId, score: d.score, sensitivity: d.sensitivity, toolClass: d.toolClass, reasons: d.reasons });
    deps.audit.record({ type: 'call.decision', callId: req.callId, sessionId: req.sessionId, action: d.action, enforced: d.enforced, mode: d.mode, score: d.score, rules: d.rules, policyHash: d.policyHash });
  }

  function forwardWithAudit(req: ToolCallRequest, decision: Decision, verdict: Extract<GuardVerdict, { kind: 'forward' }>): GuardVerdict {
    try {
      // Write-ahead: this record is on disk (write(2) done) before the proxy forwards.
      deps.audit.record({ type: 'call.forwarded', callId: req.callId, sessionId: req.sessionId, upstream: req.upstream, tool: req.tool, enforced: decision.enforced });
    } catch (err) {
      // Release whatever the enforcer holds (throttle slot) before failing closed.
      verdict.onOutcome?.({ status: 'cancelled', durationMs: 0, resultBytes: 0, resultItems: 0, result: undefined });
      throw err;
    }
    return {
      kind: 'forward',
      onOutcome: (outcome: UpstreamOutcome) => {
        verdict.onOutcome?.(outcome);
        recordOutcome(req, outcome);
      },
    };
  }

  function recordOutcome(req: ToolCallRequest, outcome: UpstreamOutcome): void {
    try {
      deps.audit.record({
        type: 'call.result',
        callId: req.callId,
        sessionId: req.sessionId,
        status: outcome.status,
        durationMs: Math.round(outcome.durationMs * 1000) / 1000,
        resultBytes: outcome.resultBytes,
        resultItems: outcome.resultItems,
        resultDigest: outcome.result === undefined ? null : deps.engine.redact(outcome.result).digest,
        error: outcome.error ?? null,
      });
      void Promise.resolve(deps.engine.observeOutcome(req, outcome, deps.clock())).catch((err: unknown) =>
        deps.logger.error({ callId: req.callId, err }, 'observeOutcome failed'),
      );
    } catch (err) {
      // The call already happened; a failed result record makes the sink unhealthy, which blocks the next call.
      deps.logger.error({ callId: req.callId, err }, 'could not record call result');
    }
  }

  return {
    stats,
    checkToolCall,
    filterTools(principal, _sessionId, tools) {
      return tools.filter((t) => !deps.engine.isHidden(principal, String(t['upstream'] ?? ''), t.name));
    },
    onToolsListed(upstream: string, tools: readonly ToolDefinition[]) {
      deps.pins?.observe(upstream, tools);
    },
    onSessionOpened(info: SessionInfo) {
      deps.sessions?.opened(info);
      safeRecord({ type: 'session.opened', sessionId: info.sessionId, principal: principalSummary(info.principal, deps.clock()), transport: info.transport, remoteAddress: info.remoteAddress ?? null, userAgent: info.userAgent ?? null });
    },
    onSessionClosed(info: SessionInfo, reason: string) {
      deps.sessions?.closed(info.sessionId, reason);
      safeRecord({ type: 'session.closed', sessionId: info.sessionId, reason });
    },
  };

  function safeRecord(event: Parameters<AuditSink['record']>[0]): void {
    try {
      deps.audit.record(event);
    } catch (err) {
      deps.logger.error({ err, type: event.type }, 'audit record failed');
    }
  }
}
