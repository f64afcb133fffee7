import { describe, expect, it } from 'vitest';
import { auditEvent, decisionEvent, principalSummary, resultEvent } from '../../src/audit/events.js';
import { AuditConfigSchema } from '../../src/audit/audit-config.js';
import { AuditUnavailableError } from '../../src/audit/audit-errors.js';
import { WardenError } from '../../src/core/errors.js';
import { digestOf } from '../../src/core/canonical-json.js';
import type { Principal } from '../../src/core/principal.js';
import { makePrincipal } from '../helpers/principal-builder.js';

const alice: Principal = makePrincipal({
  issuer: 'https://idp', user: 'alice', actor: 'agent-1', priorActors: ['planner', 'orchestrator'],
  scopes: ['a'], sessionId: 'idp-s', authTime: 1, issuedAt: 1, expiresAt: 2, tokenId: 'jti', claims: { secret: 'x' },
});

describe('typed audit events', () => {
  it('summarises the principal with the whole actor chain and no claims or token', () => {
    expect(principalSummary(alice)).toEqual({
      issuer: 'https://idp', user: 'alice', actor: 'agent-1', actorChain: ['agent-1', 'planner', 'orchestrator'],
      actorIssuer: null, actorChainIssuers: [null, null, null], clientId: null,
      scopes: ['a'], idpSessionId: 'idp-s', tokenId: 'jti', anonymous: false,
    });
  });

  it('records each actor\'s issuer, so two agents with one sub from different issuers stay apart in the trail', () => {
    const p = makePrincipal({ ...alice, actorIssuer: 'https://agents.b', priorActorIssuers: [null, 'https://agents.a'] });
    expect(principalSummary(p)).toMatchObject({ actorChain: ['agent-1', 'planner', 'orchestrator'], actorIssuer: 'https://agents.b', actorChainIssuers: ['https://agents.b', null, 'https://agents.a'] });
  });

  it('builds decision and result records with the documented fields', () => {
    const d = decisionEvent('c1', 's1', {
      action: 'block', enforced: 'allow', mode: 'monitor', score: 80, sensitivity: 'high', toolClass: 'fs',
      reasons: [{ code: 'rate.tool', weight: 30, detail: 'd' }], rules: ['r1'], policyHash: 'sha256:p',
    }, { tool: 'rm' });
    expect(d).toEqual({
      type: 'call.decision', callId: 'c1', sessionId: 's1', action: 'block', enforced: 'allow', mode: 'monitor', score: 80,
      rules: ['r1'], policyHash: 'sha256:p', reasons: [{ code: 'rate.tool', weight: 30, detail: 'd' }], tool: 'rm',
    });
    const r = resultEvent('c1', undefined, { status: 'ok', durationMs: 5, resultBytes: 10, resultItems: 1, result: { content: [] } });
    expect(r).toEqual({ type: 'call.result', callId: 'c1', status: 'ok', durationMs: 5, resultBytes: 10, resultItems: 1, resultDigest: digestOf({ content: [] }) });
    expect(auditEvent('call.forwarded', { callId: 'c1', upstream: 'fs', tool: 'rm' })).toEqual({ type: 'call.forwarded', callId: 'c1', upstream: 'fs', tool: 'rm' });
  });

  it('AuditUnavailableError is a WardenError with code audit_unavailable', () => {
    const e = new AuditUnavailableError('x');
    expect(e).toBeInstanceOf(WardenError);
    expect(e.code).toBe('audit_unavailable');
  });

  it('AuditConfigSchema applies defaults and rejects typos', () => {
    expect(AuditConfigSchema.parse({})).toEqual({
      file: './warden-audit.jsonl', maxFileBytes: 256 * 1024 * 1024, fsync: 'never',
      checkpoint: { everyRecords: 1000 }, redact: { paths: [], patterns: [] },
    });
    expect(AuditConfigSchema.safeParse({ checkpoint: { everyRecord: 5 } }).success).toBe(false);
    expect(AuditConfigSchema.safeParse({ fsync: { everyRecords: 0 } }).success).toBe(false);
  });
});

describe('CLI colour', () => {
  it('colours only a TTY, and never with NO_COLOR or TERM=dumb', async () => {
    const { painter } = await import('../../src/audit/cli-format.js');
    expect(painter({ isTTY: true }, {})('red', 'x')).toBe('\u001b[31mx\u001b[39m');
    expect(painter({ isTTY: false }, {})('red', 'x')).toBe('x');
    expect(painter({ isTTY: true }, { NO_COLOR: '1' })('red', 'x')).toBe('x');
    expect(painter({ isTTY: true }, { TERM: 'dumb' })('red', 'x')).toBe('x');
  });
});
