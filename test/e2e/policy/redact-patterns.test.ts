import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../helpers/paths.js';
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

/**
 * Redaction scans every argument string of every call before it is written, synchronously: a
 * pattern that backtracks quadratically on a crafted string held the whole warden. The shipped
 * default policy's e-mail pattern took about 13 s on 80 KB of `a.a.a.…`, the built-in JWT
 * pattern about 5 s on 80 KB of `eyJaeyJa…`; a 4 MiB argument meant hours. These calls carry
 * 400 KB each: answered in well under the test's timeout once the scans are linear.
 */
describe('redaction of hostile strings under the default policy (real warden)', () => {
  let w: PolicyWarden;
  beforeAll(async () => {
    const text = readFileSync(join(REPO_ROOT, 'policies/default.yaml'), 'utf8');
    w = await startPolicyWarden(parse(text) as Record<string, unknown>);
    await w.client.listTools();
  });
  afterAll(async () => {
    await w?.close();
  });

  it.each([
    ['dots that look like the start of an e-mail address at every letter', 'a.'.repeat(200_000)],
    ['JWT headers without a signature part', 'eyJa'.repeat(100_000)],
  ])('a 400 KB argument of %s does not stall the audit redaction', async (_name, message) => {
    const r = await w.client.callTool({ name: 'echo', arguments: { message } }, undefined, { timeout: 15_000 });
    expect(r.isError ?? false).toBe(false);
    const received = w.records().filter((x) => x.type === 'call.received').at(-1)!;
    expect(received['argsDigest']).toMatch(/^sha256:/);
  }, 20_000);
});
