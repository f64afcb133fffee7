import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditConfigSchema } from '../../src/audit/audit-config.js';
import { startFileAuditSink } from '../../src/audit/start-audit-sink.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import { policyDecisionEngine } from '../../src/runtime/policy-decision-engine.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest } from '../fixtures/enforce/call-fixtures.js';
import { policyFrom } from '../helpers/policy-helpers.js';
import { tempDir } from '../audit/audit-test-helpers.js';

const POLICY = policyFrom(`
version: 1
defaults: { sensitivity: low, unclassifiedAction: allow }
thresholds: { throttle: 98, approve: 99, block: 100 }
redact: { paths: [card.number, '**.pin'], patterns: ['SSN-\\\\d+'] }
rules:
  - { id: allow-all, match: { tools: ['*'] }, action: allow }
`);
// 'DACT' matches inside '[REDACTED]': the sink's second scrub of the engine's output shows.
const AUDIT_REDACT = { paths: ['note', 'deep.secretish'], patterns: ['ACME-[0-9]+', 'DACT'] };

const ARGS: readonly unknown[] = [
  { message: 'ping' },
  { path: '/tmp/a', content: 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl', password: 'hunter2' },
  { card: { number: '4111', pin: 1234 }, note: 'ACME-77 SSN-123', list: [{ pin: 1 }, 'SSN-9'], '\u202e': 'bidi' },
  { deep: { secretish: { a: [1, 2, { pin: 3 }] } }, n: -0, big: 1e21, '__proto__x': null },
  JSON.parse('{"__proto__":{"password":"p"},"a":[[],{}],"z":"[REDACTED]"}') as unknown,
  { odd: Number.NaN, when: 'x' },
];

/** Runs the same calls through a guard with `engine` into a fresh audit file; returns the file's bytes. */
async function auditBytes(engine: (e: DecisionEngine) => DecisionEngine): Promise<string> {
  const file = join(tempDir(), 'audit.jsonl');
  let t = Date.UTC(2026, 10, 22, 12, 0, 0);
  const clock = () => t;
  const sink = startFileAuditSink(AuditConfigSchema.parse({ file, redact: AUDIT_REDACT }), { clock });
  const store = new MemoryStateStore();
  const guard = createGuard({
    engine: engine(policyDecisionEngine(createPolicyEngine({ store, policy: () => POLICY }), AUDIT_REDACT)),
    enforcer: { enforce: async () => ({ kind: 'forward' }), blockResult: () => ({ isError: true, content: [] }) },
    audit: sink, clock, logger: silentLogger(),
  });
  let i = 0;
  for (let round = 0; round < 3; round++) {
    for (const args of ARGS) {
      i += 1;
      const { req } = callRequest({ callId: `call-${i}`, arguments: args as Record<string, unknown> });
      const verdict = await guard.checkToolCall(req);
      expect(verdict.kind).toBe('forward');
      if (verdict.kind === 'forward') verdict.onOutcome?.({ status: 'ok', durationMs: 2, resultBytes: 10, resultItems: 1, result: { content: [{ type: 'text', text: 'ok' }] } });
      t += 250;
    }
  }
  await sink.close();
  return readFileSync(file, 'utf8');
}

describe('the guard writes the same audit bytes with and without the one-walk argument encoder', () => {
  it('is byte-identical to redact() + the sink serializer, across redaction rules and odd values', async () => {
    const oneWalk = await auditBytes((e) => e);
    const twoPass = await auditBytes((e) => ({ decide: e.decide, observeOutcome: e.observeOutcome, isHidden: e.isHidden, redact: e.redact }));
    expect(oneWalk.split('\n').length).toBeGreaterThan(ARGS.length * 3 * 5);
    expect(oneWalk).toContain('"password":"[REDACTED]"');
    // A policy path the sink does not know: the engine's marker, scrubbed again by the sink.
    expect(oneWalk).toContain('"number":"[RE[REDACTED]ED]"');
    expect(oneWalk).toBe(twoPass);
  });
});
