import type { ToolCallRequest } from '../core/tool-call.js';
import { ANONYMOUS_PRINCIPAL } from '../identity/anonymous-authenticator.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { createPolicyEngine } from '../policy/policy-engine.js';
import { MemoryStateStore } from '../state/memory-store.js';

/**
 * Runs one throwaway decision at start-up. The first decision in a fresh process pays for JIT
 * compilation and lazy initialisation (tens of ms on a loaded machine); without a warm-up that
 * cost lands on the agent's first real call and can exceed the decision budget, which fails
 * closed. A separate store keeps the synthetic call out of every principal's history.
 */
export async function warmUpDecisionPath(policy: () => CompiledPolicy, now: number): Promise<void> {
  const engine = createPolicyEngine({ store: new MemoryStateStore({ maxEntries: 1_000 }), policy });
  const req: ToolCallRequest = {
    callId: 'warm-up',
    action: 'tools/call',
    sessionId: 'warm-up',
    principal: ANONYMOUS_PRINCIPAL,
    upstream: 'warden-warm-up',
    tool: 'warm_up',
    exposedName: 'warm_up',
    arguments: { path: '/tmp/warm-up', amount: 1 },
    toolDefinition: undefined,
    transport: 'stdio',
    remoteAddress: undefined,
    userAgent: undefined,
    clientInfo: undefined,
    progressToken: undefined,
    receivedAt: now,
    signal: new AbortController().signal,
    sendProgress: undefined,
  };
  await engine.decide(req, now);
  await engine.observeOutcome(req, { status: 'ok', durationMs: 1, resultBytes: 10, resultItems: 1, result: { content: [] } }, now);
}
