import { describe, expect, it } from 'vitest';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { policyFrom, principal, request } from '../helpers/policy-helpers.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

describe('createPolicyEngine', () => {
  const policy = policyFrom(`
version: 1
sensitivity: [{ tools: [list], level: low }]
anomalies:
  volume: { maxItems: 1000, perUserMaxItems: 150 }
  novelty: { toolWeight: 0 }
rules:
  - { id: exfil, match: { reasons: [volume.user_items] }, action: block }
  - { id: hide-x, match: { tools: [x] }, action: block, hide: true }
redact: { paths: [secret] }
`);
  const engine = createPolicyEngine({ store: new MemoryStateStore(), policy: () => policy });

  it('volume is also counted per user across agents (two agents splitting an export)', async () => {
    const a = request({ tool: 'list', principal: principal({ actor: 'agent-a' }) });
    const b = request({ tool: 'list', principal: principal({ actor: 'agent-b' }), sessionId: 's2' });
    const outcome = { status: 'ok' as const, durationMs: 1, resultBytes: 10, resultItems: 100, result: null };
    expect((await engine.decide(a, T0)).decision.action).toBe('allow');
    await engine.observeOutcome(a, outcome, T0);
    expect((await engine.decide(b, T0 + 1)).decision.action).toBe('allow');
    await engine.observeOutcome(b, outcome, T0 + 1);
    const third = await engine.decide(a, T0 + 2);
    expect(third.decision).toMatchObject({ action: 'block', rules: ['exfil'] });
    expect(third.signals.volume).toMatchObject({ items: 100, userItems: 200 });
  });

  it('exposes hiding, redaction and the policy', () => {
    expect(engine.isToolHidden(principal(), 'acme', 'x')).toBe(true);
    expect(engine.redaction().paths).toEqual(['secret']);
    expect(engine.policy()).toBe(policy);
  });

  it('decides safely on arguments that are not an object', async () => {
    const fresh = createPolicyEngine({ store: new MemoryStateStore(), policy: () => policy });
    const odd = request({ tool: 'list', arguments: null as unknown as Record<string, unknown> });
    const { decision } = await fresh.decide(odd, T0);
    expect(decision.action).toBe('allow');
  });
});
