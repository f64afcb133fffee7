import { describe, expect, it } from 'vitest';
import { buildBlockResult, DECISION_META_KEY } from '../../src/enforce/block-result.js';
import { decision } from '../fixtures/enforce/call-fixtures.js';

describe('block result', () => {
  it('has isError, readable text and the decision under the reverse-DNS _meta key', () => {
    const d = decision({ action: 'block', enforced: 'block', score: 91, rules: ['no-secrets'] });
    const result = buildBlockResult({ callId: 'c1', decision: d, reason: 'policy_block' });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: 'text', text: expect.stringContaining('no-secrets') }]);
    expect((result._meta as Record<string, unknown>)[DECISION_META_KEY]).toEqual({
      action: 'block',
      reason: 'policy_block',
      callId: 'c1',
      score: 91,
      rules: ['no-secrets'],
      reasons: ['sensitivity.high'],
      policyHash: 'sha256:policy-v1',
    });
    expect(DECISION_META_KEY).toBe('dev.mcp-warden/decision');
  });

  it('carries retryAfterMs for throttle rejections and never leaks argument values', () => {
    const result = buildBlockResult({ callId: 'c2', decision: decision({ enforced: 'throttle' }), reason: 'throttle_rejected', retryAfterMs: 1234.2 });
    const meta = (result._meta as Record<string, Record<string, unknown>>)[DECISION_META_KEY];
    expect(meta).toMatchObject({ action: 'throttle', reason: 'throttle_rejected', retryAfterMs: 1235 });
    expect(JSON.stringify(result)).not.toContain('secret-content');
  });

  it('internal errors without a decision still name the call', () => {
    const result = buildBlockResult({ callId: 'c3', reason: 'internal' });
    expect((result._meta as Record<string, unknown>)[DECISION_META_KEY]).toEqual({ action: 'block', reason: 'internal', callId: 'c3' });
  });
});
