import { describe, expect, it } from 'vitest';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import { policyDecisionEngine } from '../../src/runtime/policy-decision-engine.js';
import { createGuard } from '../../src/guard/create-guard.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { AuditConfigSchema } from '../../src/audit/audit-config.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { policyFrom, principal, request } from '../helpers/policy-helpers.js';

/**
 * The signals keep each session's first address and client for a day. Session ids are never
 * reused, so once a session closed its record only takes room in the session records' LRU, where
 * an agent cycling sessions could push open sessions' records out. Closing a session drops it.
 */
const POLICY = policyFrom(`
version: t
sensitivity: [{ tools: [echo], level: low }]
`);

describe('a closed session\'s signal record', () => {
  it('is dropped from the state store when the guard hears the session closed', async () => {
    const store = new MemoryStateStore();
    const engine = createPolicyEngine({ store, policy: () => POLICY });
    const guard = createGuard({
      engine: policyDecisionEngine(engine, AuditConfigSchema.parse({ file: 'unused.jsonl' }).redact),
      enforcer: { enforce: () => ({ kind: 'forward' }), blockResult: () => ({}) },
      audit: createRecordingAudit(),
      clock: () => Date.now(),
      logger: silentLogger(),
    });
    await engine.decide(request({ sessionId: 's-closed', tool: 'echo' }), Date.now());
    await engine.decide(request({ sessionId: 's-open', tool: 'echo' }), Date.now());
    expect((await store.keys('sig:sess:')).sort()).toEqual(['sig:sess:s-closed', 'sig:sess:s-open']);
    guard.onSessionClosed?.({ sessionId: 's-closed', principal: principal(), transport: 'http', remoteAddress: '10.0.0.1', userAgent: 'ua', openedAt: 0 }, 'client_closed');
    await new Promise((r) => setImmediate(r));
    expect(await store.keys('sig:sess:')).toEqual(['sig:sess:s-open']);
  });
});
