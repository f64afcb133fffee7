import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmePolicy, startPolicyWarden, type PolicyWarden } from './policy-warden.js';

/**
 * Redaction patterns are each a regex of their own. They used to be joined into one alternation,
 * so two patterns that name a group alike (`(?<id>ACCT-\d+)`, `(?<id>ORD-\d+)`; each loads
 * fine) made the redactor throw when it was built on the first call: every call of every agent
 * was then blocked as an internal error, with nothing at start-up to say why.
 */
describe('redaction patterns that share a group name (real warden)', () => {
  let w: PolicyWarden;
  beforeAll(async () => {
    w = await startPolicyWarden(acmePolicy({ redact: { paths: [], patterns: ['(?<id>ACCT-\\d+)', '(?<id>ORD-\\d+)'] } }));
    await w.client.listTools();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('calls still go through, and both patterns redact the audit copy', async () => {
    const r = await w.client.callTool({ name: 'echo', arguments: { message: 'ACCT-12345 and ORD-67890' } });
    expect(r.isError ?? false).toBe(false);
    expect(w.upstreamCalls().map((c) => c.tool)).toEqual(['echo']);
    const received = w.records().filter((x) => x.type === 'call.received');
    expect(received).toHaveLength(1);
    expect(received[0]!['args']).toEqual({ message: '[REDACTED] and [REDACTED]' });
    expect(w.records().some((x) => x.type === 'call.error')).toBe(false);
  });
});
