import type { Principal } from '../../src/core/principal.js';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { compilePolicy } from '../../src/policy/compile-policy.js';
import type { CompiledPolicy } from '../../src/policy/compiled-policy.js';
import { parsePolicyYaml, validatePolicy } from '../../src/policy/load-policy.js';
import { emptySignals, type Signals } from '../../src/signals/signals.js';
import { makePrincipal } from './principal-builder.js';

/** Compiles inline policy YAML (throws ConfigError like a file would). */
export function policyFrom(yaml: string): CompiledPolicy {
  return compilePolicy(validatePolicy(parsePolicyYaml(yaml, 'inline.yaml'), 'inline.yaml'), ['inline.yaml']);
}

export function principal(over: Partial<Principal> = {}): Principal {
  return makePrincipal({ issuer: 'https://idp.example.com', user: 'alice@acme.example', actor: 'agent-7', ...over });
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

/** Quiet signals (first call of a principal, nothing unusual) with overrides per section. */
export function signals(over: DeepPartial<Signals> = {}): Signals {
  const base = emptySignals();
  return {
    rate: { ...base.rate, ...over.rate },
    burst: { ...base.burst, ...over.burst },
    volume: { ...base.volume, ...over.volume },
    novelty: { ...base.novelty, ...over.novelty },
    context: { ...base.context, ...over.context },
    storeHealthy: over.storeHealthy ?? true,
  };
}

/** A complete ToolCallRequest for signal collection tests. */
export function request(over: Partial<ToolCallRequest> = {}): ToolCallRequest {
  return {
    callId: 'c1',
    action: 'tools/call',
    sessionId: 's1',
    principal: principal(),
    upstream: 'acme',
    tool: 'echo',
    exposedName: 'echo',
    arguments: {},
    toolDefinition: undefined,
    transport: 'http',
    remoteAddress: '10.0.0.1',
    userAgent: 'ua/1',
    clientInfo: { name: 'client', version: '1' },
    progressToken: undefined,
    receivedAt: 0,
    signal: new AbortController().signal,
    sendProgress: undefined,
    ...over,
  };
}

/** Read-only, non-destructive annotations, so annotation floors do not interfere with a table. */
export const READ_ONLY = { name: 't', annotations: { readOnlyHint: true, openWorldHint: false } };
