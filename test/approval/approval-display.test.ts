import { describe, expect, it } from 'vitest';
import { renderApprovalCard, terminalSafe } from '../../src/approval/approval-display.js';
import type { PendingApproval } from '../../src/approval/approval-types.js';

const record: PendingApproval = {
  id: 'apr_1', callId: 'c', sessionId: 's',
  principal: { issuer: '', user: 'mallory\x1b[2J', actor: 'agent\u202e', priorActors: [], clientId: undefined },
  upstream: 'fs', tool: 'write\x1b]0;pwned\x07', exposedName: 'fs.write', argsDigest: 'sha256:x', policyHash: 'p',
  score: 50, rules: [], reasons: [{ code: 'r', detail: 'line\rover' }],
  redactedArguments: { text: 'clear\x1b[H' }, createdAt: 0, expiresAt: 1,
};

describe('approval display', () => {
  it('blocks terminal injection: escape sequences and bidi overrides from agents are escaped', () => {
    const screen = renderApprovalCard(record, '').join('\n');
    expect(screen).not.toMatch(/[\x1b\x07\r\u202e]/);
    expect(screen).toContain('mallory\\u001b[2J');
    expect(terminalSafe('a\u2066b')).toBe('a\\u2066b');
  });
});
