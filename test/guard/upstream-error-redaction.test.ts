import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditConfigSchema } from '../../src/audit/audit-config.js';
import { startFileAuditSink } from '../../src/audit/start-audit-sink.js';
import { createGuard } from '../../src/guard/create-guard.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createPolicyEngine } from '../../src/policy/policy-engine.js';
import { policyFrom } from '../helpers/policy-helpers.js';
import { policyDecisionEngine } from '../../src/runtime/policy-decision-engine.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { tempDir } from '../audit/audit-test-helpers.js';
import { callRequest } from '../fixtures/enforce/call-fixtures.js';

const IBAN = 'DE89370400440532013000';
const POLICY = policyFrom(`
version: 1
defaults: { sensitivity: low, unclassifiedAction: allow }
redact: { paths: [payee], patterns: ['\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b'] }
`);

/** A guard that forwards every call under `policy`, writing its audit to `file`. */
function forwardingGuard(file: string, policy: ReturnType<typeof policyFrom>) {
  const sink = startFileAuditSink(AuditConfigSchema.parse({ file }), {});
  const guard = createGuard({
    engine: policyDecisionEngine(createPolicyEngine({ store: new MemoryStateStore(), policy: () => policy }), { paths: [], patterns: [] }),
    enforcer: { enforce: () => ({ kind: 'forward' }), blockResult: () => ({ isError: true, content: [] }) },
    audit: sink,
    clock: () => Date.now(),
    logger: silentLogger(),
  });
  return { sink, guard };
}

/**
 * The policy redacts the payee (by path and by its IBAN pattern) in call.received. An upstream
 * that rejects the call with a JSON-RPC error often repeats what it was sent ("unknown payee
 * DE89…"): call.result carried that message through the sink's own rules only, which know
 * nothing of the policy's, so the IBAN the policy hides reached the audit file in clear.
 */
describe('upstream error messages get the arguments\' redaction', () => {
  it('keeps a policy-redacted value out of call.result when the upstream error echoes it', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const { sink, guard } = forwardingGuard(file, POLICY);
    const { req } = callRequest({ tool: 'transfer_funds', arguments: { amount: 10, payee: IBAN } });
    const verdict = await guard.checkToolCall(req);
    if (verdict.kind !== 'forward') throw new Error('expected the call to be forwarded');
    verdict.onOutcome?.({ status: 'error', durationMs: 3, resultBytes: 0, resultItems: 0, result: undefined, error: { code: -32602, message: `unknown payee ${IBAN}` } });
    await sink.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = lines.find((l) => l.type === 'call.result');
    expect(result).toMatchObject({ status: 'error', error: { code: -32602, message: 'unknown payee [REDACTED]' } });
    expect(readFileSync(file, 'utf8')).not.toContain(IBAN);
  });

  /**
   * A value hidden by its key path alone has no shape a pattern could find: the policy redacts
   * `pin` and `account.holder`, and the built-in rules hide any `password`. Upstream errors that
   * quote them ("wrong PIN 4921") reached call.result in clear.
   */
  it('keeps path-redacted values an upstream error quotes out of call.result (echo of a hidden argument)', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const { sink, guard } = forwardingGuard(file, policyFrom(`
version: 1
defaults: { sensitivity: low, unclassifiedAction: allow }
redact: { paths: [pin, account.holder] }
`));
    const args = { pin: 4921, account: { holder: 'Ada Lovelace', id: 'acc-77' }, password: 'hunter22', note: 'pay rent' };
    const { req } = callRequest({ tool: 'transfer_funds', arguments: args });
    const verdict = await guard.checkToolCall(req);
    if (verdict.kind !== 'forward') throw new Error('expected the call to be forwarded');
    const message = 'wrong PIN 4921 for Ada Lovelace (acc-77), password hunter22 rejected; note: pay rent';
    verdict.onOutcome?.({ status: 'error', durationMs: 3, resultBytes: 0, resultItems: 0, result: undefined, error: { code: -32602, message } });
    await sink.close();
    const text = readFileSync(file, 'utf8');
    const result = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.type === 'call.result');
    // What the arguments record shows stays readable: acc-77 and the note were never hidden.
    expect(result).toMatchObject({ error: { code: -32602, message: 'wrong PIN [REDACTED] for [REDACTED] (acc-77), password [REDACTED] rejected; note: pay rent' } });
    for (const secret of ['4921', 'Ada Lovelace', 'hunter22']) expect(text).not.toContain(secret);
  });

  /**
   * Servers quote what they were sent in the form they hold it: the arguments as JSON ("invalid
   * params: {\"password\":\"…\"}", where a quote or backslash in the value is escaped) or a
   * URL they built from them (percent-encoded). The literal search missed both, and a password
   * with a quote in it, or a PIN with a space, reached call.result in clear.
   */
  it('keeps a hidden value out of call.result when the upstream error quotes it JSON-escaped or percent-encoded (escaped echo of a hidden argument)', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const { sink, guard } = forwardingGuard(file, policyFrom(`
version: 1
defaults: { sensitivity: low, unclassifiedAction: allow }
redact: { paths: [pin] }
`));
    const password = 'pa"ss\\word!';
    const pin = '49 21/x';
    const { req } = callRequest({ tool: 'transfer_funds', arguments: { password, pin, note: 'pay rent' } });
    const verdict = await guard.checkToolCall(req);
    if (verdict.kind !== 'forward') throw new Error('expected the call to be forwarded');
    const message = `invalid params: ${JSON.stringify({ password, note: 'pay rent' })}; GET /verify?pin=${encodeURIComponent(pin)} failed`;
    verdict.onOutcome?.({ status: 'error', durationMs: 3, resultBytes: 0, resultItems: 0, result: undefined, error: { code: -32602, message } });
    await sink.close();
    const text = readFileSync(file, 'utf8');
    const result = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.type === 'call.result');
    expect(result).toMatchObject({ error: { message: 'invalid params: {"password":"[REDACTED]","note":"pay rent"}; GET /verify?pin=[REDACTED] failed' } });
    const recorded = (result as { error: { message: string } }).error.message;
    for (const secret of [JSON.stringify(password).slice(1, -1), encodeURIComponent(pin)]) expect(recorded).not.toContain(secret);
  });
});
