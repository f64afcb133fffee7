import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { auditEvent, decisionEvent, principalSummary } from '../../src/audit/events.js';
import { digestOf } from '../../src/core/canonical-json.js';
import type { Decision } from '../../src/core/decision.js';
import { makePrincipal } from '../helpers/principal-builder.js';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';

/**
 * Names and texts in the audit trail come from upstreams (tool names), identity providers
 * (users, agents), approvers (deny reasons) and errors. The log stores them escaped, but a
 * reader parses them back: printed raw, an ESC/OSC sequence would drive the operator's terminal
 * (rewrite the screen, set the clipboard with OSC 52) and a bidi override would reorder what
 * they read.
 */
const ESC = '\u001b';
const HOSTILE = {
  tool: `read_file${ESC}]52;c;cm0gLXJmIH4=\u0007${ESC}[2K\rallowed`,
  user: `mallory${ESC}[8m`,
  actor: `agent\u202egnp.exe\u009b31m`,
  reason: `nope${ESC}]0;pwned\u0007\u2028line`,
  message: `boom${ESC}[1A${ESC}[2Kfake OK\u200b`,
  session: `s-1${ESC}[31m`,
};
/** What must never reach a terminal raw: C0 (but \n), DEL, C1, bidi, line separators, zero-width. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let file: string;

beforeAll(async () => {
  requireBuild();
  file = join(tempDir(), 'warden-audit.jsonl');
  const sink = await openAuditSink({ file });
  const p = principalSummary(makePrincipal({ issuer: 'https://idp.example', user: HOSTILE.user, actor: HOSTILE.actor, clientId: 'cli', scopes: [] }));
  const callId = 'c-hostile';
  const sessionId = HOSTILE.session;
  const args = { path: '/tmp/x' };
  const d: Decision = { action: 'approve', enforced: 'approve', mode: 'enforce', score: 70, sensitivity: 'high', toolClass: 'fs', reasons: [], rules: ['r1'], policyHash: 'sha256:p' };
  sink.record(auditEvent('call.received', { callId, sessionId, principal: p, upstream: 'fs', tool: HOSTILE.tool, args, argsDigest: digestOf(args) }));
  sink.record(decisionEvent(callId, sessionId, d, { tool: HOSTILE.tool, principal: p }));
  sink.record(auditEvent('call.approval_answered', { callId, sessionId, approvalId: 'a1', approved: false, by: HOSTILE.user, how: 'control-api', outcome: 'deny', reason: HOSTILE.reason }));
  sink.record(auditEvent('call.error', { callId, sessionId, stage: 'guard', code: 'internal', message: HOSTILE.message }));
  await sink.close();
});

describe('audit readers never print control, bidi or invisible characters raw', () => {
  for (const [name, args] of [
    ['tail', ['tail']],
    ['tail --json', ['tail', '--json']],
    ['show', ['show', 'c-hostile']],
    ['show --json', ['show', 'c-hostile', '--json']],
    ['query', ['query']],
    ['query --json', ['query', '--json']],
    ['stats', ['stats']],
    ['stats --json', ['stats', '--json']],
  ] as const) {
    it(`${name}: escapes ESC/OSC sequences, C1 controls and bidi overrides in names and reasons`, () => {
      const r = cli([...args, '--file', file]);
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.stdout).not.toMatch(UNSAFE);
    });
  }

  it('JSON output still parses to the names as recorded', () => {
    const calls = JSON.parse(cli(['query', '--json', '--file', file]).stdout) as { tool: string; agent: string }[];
    expect(calls[0]?.tool).toBe(HOSTILE.tool);
    expect(calls[0]?.agent).toBe(HOSTILE.actor);
    const line = cli(['tail', '--json', '--file', file]).stdout.split('\n')[0] as string;
    expect((JSON.parse(line) as { tool: string }).tool).toBe(HOSTILE.tool);
  });

  it('still shows the hostile names, visibly escaped', () => {
    const r = cli(['tail', '--file', file]);
    expect(r.stdout).toContain('read_file\\u001b]52;c;');
    expect(r.stdout).toContain('agent\\u202egnp.exe');
  });
});
