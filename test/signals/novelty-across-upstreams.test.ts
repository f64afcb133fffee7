import { describe, expect, it } from 'vitest';
import { collectSignals, observeOutcome } from '../../src/signals/collect-signals.js';
import { peekSignals } from '../../src/signals/peek-signals.js';
import type { StateStore } from '../../src/state/state-store.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { decideToolCall, recordOutcome } from '../../src/policy/decide.js';
import { ALL_SIGNALS, asyncOnly } from '../helpers/async-only-store.js';
import { policyFrom, request } from '../helpers/policy-helpers.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const OK = { status: 'ok' as const, durationMs: 1, resultBytes: 10, resultItems: 1, result: null };

/**
 * A payee is familiar where it was paid. Novelty values were remembered per user only, so a
 * successful call of a same-named tool on another upstream (a sandbox bank the policy lets the
 * agent use freely) made the attacker's IBAN "known" for the real one.
 */
describe('novelty of sensitive argument values is per upstream', () => {
  const stores: [string, () => StateStore][] = [
    ['in-memory (synchronous path)', () => new MemoryStateStore()],
    ['any store (general path)', () => asyncOnly(new MemoryStateStore())],
  ];
  it.each(stores)('a payee paid on a sandbox upstream stays new on the real one (%s)', async (_name, make) => {
    const store = make();
    const sandbox = request({ upstream: 'sandbox', tool: 'transfer_funds', arguments: { payee: 'DE-EVIL' } });
    const bank = request({ upstream: 'bank', tool: 'transfer_funds', arguments: { payee: 'DE-EVIL' } });
    expect((await collectSignals(store, sandbox, T0, ALL_SIGNALS)).novelty.arguments).toEqual(['payee']);
    await observeOutcome(store, sandbox, OK, T0, ALL_SIGNALS);
    // Familiar where it was used...
    expect((await collectSignals(store, sandbox, T0 + 1, ALL_SIGNALS)).novelty.arguments).toEqual([]);
    // ...but not at another upstream, neither counted nor peeked.
    expect((await peekSignals(store, bank, T0 + 2, ALL_SIGNALS)).novelty.arguments).toEqual(['payee']);
    expect((await collectSignals(store, bank, T0 + 2, ALL_SIGNALS)).novelty.arguments).toEqual(['payee']);
  });

  it('the real bank still asks a human for the new payee after the sandbox payment', async () => {
    const policy = policyFrom(`
version: t1
anomalies:
  novelty: { toolWeight: 0, arguments: [{ name: payee, tools: [transfer_funds], path: payee, weight: 20 }] }
sensitivity:
  - { tools: [transfer_funds], level: high, class: payments }
rules:
  - { id: sandbox-free, match: { upstreams: [sandbox], tools: [transfer_funds] }, action: allow }
  - { id: bank-small, match: { upstreams: [bank], tools: [transfer_funds], arguments: [{ path: amount, lte: 1000 }] }, action: allow }
  - { id: bank-new-payee, match: { upstreams: [bank], tools: [transfer_funds], reasons: [novelty.argument] }, action: approve }
`);
    const store = new MemoryStateStore();
    const sandbox = request({ upstream: 'sandbox', tool: 'transfer_funds', arguments: { payee: 'DE-EVIL', amount: 900 } });
    const first = await decideToolCall(store, policy, sandbox, T0);
    expect(first.decision.enforced).toBe('allow');
    await recordOutcome(store, policy, sandbox, OK, T0);
    const bank = request({ upstream: 'bank', tool: 'transfer_funds', arguments: { payee: 'DE-EVIL', amount: 900 } });
    const real = await decideToolCall(store, policy, bank, T0 + 1_000);
    expect(real.decision.rules).toContain('bank-new-payee');
    expect(real.decision.enforced).toBe('approve');
  });
});
