import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writeCheckpointFile } from '../../src/audit/checkpoint.js';
import { join } from 'node:path';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { auditEvent, decisionEvent, principalSummary } from '../../src/audit/events.js';
import { digestOf } from '../../src/core/canonical-json.js';
import type { Principal } from '../../src/core/principal.js';
import type { Decision } from '../../src/core/decision.js';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';
import { logSet } from '../../src/audit/log-files.js';
import { makePrincipal } from '../helpers/principal-builder.js';

function principal(user: string, actor: string): Principal {
  return makePrincipal({ issuer: 'https://idp.example', user, actor, priorActors: ['orchestrator'], clientId: 'cli', scopes: ['tools'] });
}

function decision(action: Decision['action'], score: number): Decision {
  return { action, enforced: action, mode: 'enforce', score, sensitivity: 'high', toolClass: 'fs', reasons: [], rules: [`rule-${action}`], policyHash: 'sha256:p1' };
}

/** A small story: four calls by two principals, with approval and blocks. */
async function writeStory(dir: string, signingKey?: string): Promise<string> {
  const file = join(dir, 'warden-audit.jsonl');
  const sink = await openAuditSink({ file, ...(signingKey ? { checkpoint: { signingKey } } : {}) });
  const calls: [string, Principal, string, Decision['action'], number][] = [
    ['c1', principal('alice', 'agent-1'), 'read_file', 'allow', 10],
    ['c2', principal('bob', 'agent-2'), 'delete_file', 'block', 85],
    ['c3', principal('alice', 'agent-1'), 'delete_file', 'approve', 70],
    ['c4', principal('bob', 'agent-2'), 'delete_file', 'block', 90],
  ];
  sink.record(auditEvent('warden.start', { version: '0.1.0', pid: 1, transport: 'stdio', upstreams: ['fs'] }));
  for (const [callId, p, tool, action, score] of calls) {
    const sessionId = `s-${p.user}`;
    const args = { path: '/etc/x', password: 'pw-SECRET' };
    sink.record(auditEvent('call.received', { callId, sessionId, principal: principalSummary(p), upstream: 'fs', tool, args, argsDigest: digestOf(args) }));
    sink.record(auditEvent('call.risk', { callId, sessionId, score, reasons: [{ code: 'sensitivity.high', weight: score, detail: 'tool is destructive' }], sensitivity: 'high' }));
    sink.record(decisionEvent(callId, sessionId, decision(action, score), { tool }));
    if (action === 'approve') {
      sink.record(auditEvent('call.approval_requested', { callId, sessionId, approvalId: 'a1', argsDigest: digestOf(args), policyHash: 'sha256:p1', expiresAt: Date.parse('2026-11-22T13:00:00Z') }));
      sink.record(auditEvent('call.approval_answered', { callId, sessionId, approvalId: 'a1', approved: true, by: 'carol', how: 'control-api', outcome: 'allow_once', approver: { kind: 'approver', id: 'carol' } }));
    }
    if (action !== 'block') {
      sink.record(auditEvent('call.forwarded', { callId, sessionId, upstream: 'fs', tool }));
      sink.record(auditEvent('call.result', { callId, sessionId, status: 'ok', durationMs: 3, resultBytes: 42, resultItems: 1, resultDigest: 'none' }));
    }
  }
  await sink.close();
  return file;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let file: string;

beforeAll(async () => {
  requireBuild();
  dir = tempDir('warden-cli-');
  file = await writeStory(dir);
});

describe('warden audit verify', () => {
  it('exits 0 on a clean log and prints a JSON report with --json', () => {
    expect(cli(['verify', file]).code).toBe(0);
    const r = cli(['verify', file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, records: 19, checkpoint: { status: 'ok', seq: 19 } });
  });

  it('exits 1 and names the code, file and line of a tampered record', () => {
    const d = tempDir('warden-cli-');
    const f = join(d, 'warden-audit.jsonl');
    writeFileSync(f, readFileSync(file, 'utf8').replace('"score":85', '"score":5'));
    const r = cli(['verify', f, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).problem).toMatchObject({ code: 'modified_record', line: 8, seq: 8 });
    const human = cli(['verify', f]);
    expect(human.stdout).toMatch(/^FAIL modified_record .*warden-audit\.jsonl:8 \(seq 8\)/);
  });

  it('exits 3 for a missing file and 2 for a bad option', () => {
    expect(cli(['verify', join(dir, 'nope.jsonl')]).code).toBe(3);
    expect(cli(['verify', '--bogus']).code).toBe(2);
  });

  it('verifies a signed checkpoint with --public-key and rejects another key (keygen writes 0600)', async () => {
    const d = tempDir('warden-cli-');
    expect(cli(['keygen', '--out', join(d, 'k1')]).code).toBe(0);
    expect(cli(['keygen', '--out', join(d, 'k2'), '--json']).code).toBe(0);
    expect(statSync(join(d, 'k1.key')).mode & 0o777).toBe(0o600);
    expect(cli(['keygen', '--out', join(d, 'k1')]).code).toBe(1); // refuses to overwrite
    const f = await writeStory(d, join(d, 'k1.key'));
    const good = cli(['verify', f, '--public-key', join(d, 'k1.pub'), '--json']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout).checkpoint.status).toBe('signed');
    const bad = cli(['verify', f, '--public-key', join(d, 'k2.pub'), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problem.code).toBe('bad_signature');
  }, 60_000);
});

describe('warden audit verify: what the checkpoint does not cover', () => {
  /** A copy of the story whose checkpoint is the one a running writer left at seq 10. */
  function staleCopy(): { f: string; cp: string } {
    const d = tempDir('warden-cli-');
    const f = join(d, 'warden-audit.jsonl');
    const text = readFileSync(file, 'utf8');
    writeFileSync(f, text);
    const at10 = JSON.parse(text.split('\n')[9] as string) as { seq: number; hash: string; ts: string };
    const cp = join(d, 'warden-audit.checkpoint.json');
    writeCheckpointFile(cp, { v: 1, file: 'warden-audit.jsonl', seq: at10.seq, hash: at10.hash, ts: at10.ts, closed: false }, false);
    return { f, cp };
  }

  it('warns uncovered_records (exit 0) and fails it with --strict (exit 1)', () => {
    const { f } = staleCopy();
    const r = cli(['verify', f]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^WARN uncovered_records .*warden-audit\.jsonl:11 \(seq 11\): 9 record\(s\) after the checkpoint/m);
    // The checkpoint's time is shown, so an older checkpoint put back (a rollback) can be spotted.
    expect(r.stdout).toMatch(/^OK .*checkpoint seq 10 of 20\d\d-\d\d-\d\dT[\d:.]+Z matches, 9 record\(s\) after it$/m);
    const json = JSON.parse(cli(['verify', f, '--json']).stdout);
    expect(json).toMatchObject({ ok: true, uncoveredRecords: 9, warnings: [{ code: 'uncovered_records', seq: 11 }] });
    const strict = cli(['verify', f, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/^FAIL --strict: 1 warning\(s\)/m);
    const strictJson = cli(['verify', f, '--strict', '--json']);
    expect(strictJson.code).toBe(1);
    expect(JSON.parse(strictJson.stdout)).toMatchObject({ ok: false, strict: true, uncoveredRecords: 9 });
  }, 60_000);

  it('warns no_checkpoint when the checkpoint is gone (exit 0), fails it with --strict', () => {
    const { f, cp } = staleCopy();
    rmSync(cp);
    const r = cli(['verify', f]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^WARN no_checkpoint  no checkpoint: /m);
    expect(cli(['verify', f, '--strict']).code).toBe(1);
  }, 60_000);

  it('--strict passes a closed log whose checkpoint covers every record', () => {
    const r = cli(['verify', file, '--strict', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, strict: true, warnings: [], uncoveredRecords: 0 });
  }, 60_000);
});

describe('warden audit tail, show, query, stats', () => {
  it('tail prints the last N records without colour when stdout is not a TTY', () => {
    const r = cli(['tail', file, '-n', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/#19 call\.decision c4 block /);
    expect(r.stdout).not.toContain('\u001b[');
    const json = cli(['tail', '-n', '3', '--json'], { WARDEN_AUDIT_FILE: file });
    expect(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual([17, 18, 19]);
  });

  it('tail says why a policy reload failed (the error), not only which file', async () => {
    const d = tempDir('warden-cli-');
    const f = join(d, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file: f });
    sink.record(auditEvent('policy.reload_failed', { file: '/etc/warden/p.yaml', error: '/etc/warden/p.yaml: rules[0].match.arguments[0].regex: invalid regular expression', keptPolicyHash: 'sha256:p1' }));
    await sink.close();
    const line = cli(['tail', f, '-n', '5']).stdout.split('\n').find((l) => l.includes('policy.reload_failed')) ?? '';
    expect(line).toContain('error=/etc/warden/p.yaml: rules[0].match.arguments[0].regex: invalid regular expression');
  });

  it('tail never shows secrets that were in the arguments', () => {
    expect(cli(['tail', file, '-n', '100', '--json']).stdout).not.toContain('pw-SECRET');
  });

  it('tail -f follows new records as they are written', async () => {
    const d = tempDir('warden-cli-');
    const f = await writeStory(d);
    const child = spawn(process.execPath, [CLI, 'audit', 'tail', f, '-f', '-n', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => void (out += c.toString()));
    // Keep appending until the follower prints one: it may start (and take its offset) late on a busy machine.
    const sink = await openAuditSink({ file: f, maxFileBytes: 4096 });
    let n = 0;
    while (!out.includes('c-followed') && n < 100) {
      sink.record(auditEvent('call.forwarded', { callId: `c-followed-${n++}`, upstream: 'fs', tool: 't' }));
      await new Promise((r) => setTimeout(r, 200));
    }
    // Then across rotations (small maxFileBytes): the follower reopens the new active file.
    for (let i = 0; i < 30; i++) {
      sink.record(auditEvent('call.forwarded', { callId: `c-rot-${i}`, upstream: 'fs', tool: 'x'.repeat(300) }));
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, 300));
    }
    for (let i = 0; i < 50 && !out.includes('c-rot-29 '); i++) await new Promise((r) => setTimeout(r, 100));
    await sink.close();
    expect(logSet(f).length).toBeGreaterThan(1);
    child.kill('SIGTERM');
    expect(out).toMatch(/call\.forwarded c-followed-\d+ upstream=fs tool=t/);
    for (let i = 0; i < 30; i++) expect(out).toContain(`c-rot-${i} `);
  }, 30_000);

  it('show prints the whole story of one call with relative timings', () => {
    const r = cli(['show', 'c3', '--file', file]);
    expect(r.code).toBe(0);
    const steps = r.stdout.trimEnd().split('\n').slice(1);
    expect(steps.map((l) => l.trim().split(/\s+/)[3])).toEqual([
      'call.received', 'call.risk', 'call.decision', 'call.approval_requested', 'call.approval_answered', 'call.forwarded', 'call.result',
    ]);
    expect(steps[0]).toMatch(/^\s+\+\s+0 ms/);
    expect(JSON.parse(cli(['show', 'c3', '--file', file, '--json']).stdout)).toHaveLength(7);
    expect(cli(['show', 'nope', '--file', file]).code).toBe(1);
    expect(cli(['show']).code).toBe(2);
  });

  it('query filters by user, agent, tool, action, score and time', () => {
    const ids = (args: string[]): string[] => {
      const r = cli(['query', '--file', file, '--json', ...args]);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { callId: string }[]).map((c) => c.callId);
    };
    expect(ids([])).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(ids(['--user', 'bob'])).toEqual(['c2', 'c4']);
    expect(ids(['--agent', 'agent-1'])).toEqual(['c1', 'c3']);
    expect(ids(['--agent', 'orchestrator'])).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(ids(['--tool', 'delete_file', '--action', 'block'])).toEqual(['c2', 'c4']);
    expect(ids(['--min-score', '80'])).toEqual(['c2', 'c4']);
    expect(ids(['--since', '1h'])).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(ids(['--until', '2000-01-01T00:00:00Z'])).toEqual([]);
    const table = cli(['query', '--file', file, '--user', 'alice']);
    expect(table.stdout).toMatch(/^time\s+call\s+user\s+agent\s+tool\s+action\s+enforced\s+score\s+status/);
    expect(table.stdout).toContain('2 call(s)');
    // Nothing matching is an answer, not a failure (README and --help say exit 0).
    const none = cli(['query', '--file', file, '--user', 'nobody']);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^0 call\(s\)$/m);
    expect(cli(['query', '--file', file, '--since', 'yesterday-ish']).code).toBe(2);
    expect(cli(['query', '--file', file, '--action', 'maybe']).code).toBe(2);
    // --limit keeps the newest N; 0 means none, and a typo is refused rather than ignored.
    expect(ids(['--limit', '2'])).toEqual(['c3', 'c4']);
    expect(ids(['--limit', '0'])).toEqual([]);
    expect(cli(['query', '--file', file, '--limit', 'ten']).code).toBe(2);
    expect(cli(['query', '--file', file, '--limit', '-1']).code).toBe(2);
    // Sixteen real CLI processes one after another: ~6 s on an idle 2-core machine, several times
    // that when the suite's SIGKILL loops run beside it.
  }, 120_000);

  it('stats counts decisions, top blocked tools and riskiest principals', () => {
    const r = cli(['stats', '--file', file, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.decisions).toEqual({ block: 2, allow: 1, approve: 1 });
    expect(s.enforced).toEqual({ block: 2, allow: 1, approve: 1 });
    expect(s.enforcedOtherwise).toBe(0);
    expect(s.topBlockedTools).toEqual([{ tool: 'delete_file', decided: 2, enforced: 2 }]);
    expect(s.topPrincipalsByRisk[0]).toMatchObject({ principal: 'bob via agent-2', calls: 2, maxScore: 90, meanScore: 87.5 });
    expect(cli(['stats', '--file', file]).stdout).toContain('Top blocked tools');
    expect(JSON.parse(cli(['stats', '--file', file, '--json', '--top', '0']).stdout).topBlockedTools).toEqual([]);
    expect(cli(['stats', '--file', file, '--top', 'many']).code).toBe(2);
  });

  it('monitor mode: query and stats show a block that was decided but not enforced', async () => {
    const d = tempDir('warden-cli-');
    const f = join(d, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file: f });
    const p = principalSummary(principal('alice', 'agent-7'));
    const monitored: Decision = { ...decision('block', 80), enforced: 'allow', mode: 'monitor' };
    sink.record(auditEvent('call.received', { callId: 'm1', sessionId: 's', principal: p, upstream: 'bank', tool: 'transfer_funds', args: {}, argsDigest: digestOf({}) }));
    sink.record(decisionEvent('m1', 's', monitored, { tool: 'transfer_funds', principal: p }));
    sink.record(auditEvent('call.forwarded', { callId: 'm1', sessionId: 's', upstream: 'bank', tool: 'transfer_funds' }));
    sink.record(auditEvent('call.result', { callId: 'm1', sessionId: 's', status: 'ok', durationMs: 2, resultBytes: 9, resultItems: 1, resultDigest: 'none' }));
    await sink.close();
    const q = cli(['query', '--file', f]);
    expect(q.stdout).toMatch(/transfer_funds\s+block\s+allow\s+80\s+ok/);
    const ids = (args: string[]): string[] => (JSON.parse(cli(['query', '--file', f, '--json', ...args]).stdout) as { callId: string }[]).map((c) => c.callId);
    expect(ids(['--action', 'block'])).toEqual(['m1']);
    expect(ids(['--enforced', 'block'])).toEqual([]);
    expect(ids(['--enforced', 'allow'])).toEqual(['m1']);
    const s = JSON.parse(cli(['stats', '--file', f, '--json']).stdout);
    expect(s).toMatchObject({ calls: 1, decisions: { block: 1 }, enforced: { allow: 1 }, enforcedOtherwise: 1, topBlockedTools: [{ tool: 'transfer_funds', decided: 1, enforced: 0 }] });
    const text = cli(['stats', '--file', f]).stdout;
    expect(text).toMatch(/^allow\s+0\s+1$/m);
    expect(text).toMatch(/^block\s+1\s+0$/m);
    expect(text).toMatch(/^transfer_funds\s+1\s+0$/m);
    expect(text).toContain('1 call(s) enforced otherwise than decided');
  }, 60_000);

  it('query says why a call was not forwarded (blocked, throttle_rejected, approval_denied, approval_timeout), unlike one still waiting', async () => {
    const d = tempDir('warden-cli-');
    const f = join(d, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file: f });
    const p = principalSummary(principal('alice', 'agent-7'));
    const call = (callId: string, action: Decision['action'], after: (callId: string) => void): void => {
      sink.record(auditEvent('call.received', { callId, sessionId: 's', principal: p, upstream: 'bank', tool: 'transfer_funds', args: {}, argsDigest: digestOf({}) }));
      sink.record(decisionEvent(callId, 's', decision(action, 50), { tool: 'transfer_funds', principal: p }));
      after(callId);
    };
    call('b1', 'block', () => undefined);
    call('t1', 'throttle', (callId) => sink.record(auditEvent('call.throttle', { callId, sessionId: 's', outcome: 'rejected', reason: 'rate', retryAfterMs: 900 })));
    call('d1', 'approve', (callId) => sink.record(auditEvent('call.approval_answered', { callId, sessionId: 's', approvalId: 'a1', approved: false, by: 'carol', how: 'control-api', outcome: 'deny', approver: { kind: 'approver', id: 'carol' } })));
    call('o1', 'approve', (callId) => sink.record(auditEvent('call.approval_timeout', { callId, sessionId: 's', approvalId: 'a2', waitedMs: 50_000 })));
    call('w1', 'approve', () => undefined);
    await sink.close();
    const rows = cli(['query', '--file', f]).stdout;
    expect(rows).toMatch(/b1\s+alice\s+agent-7\s+transfer_funds\s+block\s+block\s+50\s+blocked$/m);
    expect(rows).toMatch(/t1\s.*\s+throttle_rejected$/m);
    expect(rows).toMatch(/d1\s.*\s+approval_denied$/m);
    expect(rows).toMatch(/o1\s.*\s+approval_timeout$/m);
    expect(rows).toMatch(/w1\s.*\s+-$/m);
    const json = JSON.parse(cli(['query', '--file', f, '--json']).stdout) as { callId: string; status: unknown; refusal: unknown }[];
    expect(json.map((c) => [c.callId, c.status, c.refusal])).toEqual([
      ['b1', null, 'blocked'], ['t1', null, 'throttle_rejected'], ['d1', null, 'approval_denied'], ['o1', null, 'approval_timeout'], ['w1', null, null],
    ]);
  }, 60_000);

  it('query --agent-issuer and stats tell apart two agents of one name from different issuers (co-tenant agent name collision)', async () => {
    const d = tempDir('warden-cli-');
    const f = join(d, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file: f });
    const [A, B, IDP] = ['https://agents-a.example', 'https://agents-b.example', 'https://idp.example'];
    const who = (fields: Partial<Principal>) => principalSummary(makePrincipal({ issuer: IDP, user: 'alice', ...fields }));
    const calls: [string, ReturnType<typeof principalSummary>, number][] = [
      ['x1', who({ actor: 'agent-7', actorIssuer: A }), 20],
      ['x2', who({ actor: 'agent-7', actorIssuer: B }), 90],
      ['x3', who({ actor: 'agent-7' }), 50], // its act names no issuer: the token's is its namespace
      ['x4', who({ user: 'bob', actor: 'orchestrator', actorIssuer: A, priorActors: ['agent-7'], priorActorIssuers: [B] }), 40],
    ];
    for (const [callId, p, score] of calls) {
      sink.record(auditEvent('call.received', { callId, sessionId: 's', principal: p, upstream: 'fs', tool: 'read_file', args: {}, argsDigest: digestOf({}) }));
      sink.record(decisionEvent(callId, 's', decision('allow', score), { tool: 'read_file', principal: p }));
    }
    await sink.close();
    const ids = (args: string[]): string[] => {
      const r = cli(['query', '--file', f, '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { callId: string }[]).map((c) => c.callId);
    };
    expect(ids(['--agent', 'agent-7'])).toEqual(['x1', 'x2', 'x3', 'x4']); // a name alone: any namespace
    expect(ids(['--agent', 'agent-7', '--agent-issuer', B])).toEqual(['x2', 'x4']); // x4: a prior actor of B
    expect(ids(['--agent', 'agent-7', '--agent-issuer', IDP])).toEqual(['x3']);
    expect(ids(['--agent-issuer', A])).toEqual(['x1', 'x4']);
    // Name and issuer must belong to the same actor: x4's orchestrator is of A, its agent-7 of B.
    expect(ids(['--agent', 'orchestrator', '--agent-issuer', B])).toEqual([]);
    const x4 = (JSON.parse(cli(['query', '--file', f, '--json', '--user', 'bob']).stdout) as Record<string, unknown>[])[0];
    expect(x4).toMatchObject({ issuer: IDP, agent: 'orchestrator', agentIssuer: A, actorChain: ['orchestrator', 'agent-7'], actorChainIssuers: [A, B] });

    const s = JSON.parse(cli(['stats', '--file', f, '--json']).stdout) as { topPrincipalsByRisk: Record<string, unknown>[] };
    const alice = s.topPrincipalsByRisk.filter((p) => p.user === 'alice');
    expect(alice).toHaveLength(3); // one agent-7 per namespace, never merged into one row
    expect(alice).toEqual([
      expect.objectContaining({ principal: 'alice via agent-7', agentIssuer: B, calls: 1, maxScore: 90 }),
      expect.objectContaining({ principal: 'alice via agent-7', agentIssuer: null, issuer: IDP, calls: 1, maxScore: 50 }),
      expect.objectContaining({ principal: 'alice via agent-7', agentIssuer: A, calls: 1, maxScore: 20 }),
    ]);
    const text = cli(['stats', '--file', f]).stdout;
    expect(text).toMatch(/^principal\s+agent issuer\s+calls\s+mean\s+max$/m);
    expect(text).toMatch(/^alice via agent-7\s+https:\/\/agents-b\.example\s+1\s+90\s+90$/m);
    expect(text).toMatch(/^alice via agent-7\s+https:\/\/idp\.example \(token iss\)\s+1\s+50\s+50$/m);
  }, 60_000);

  it('every subcommand prints --help and exits 0; no subcommand is a usage error', () => {
    for (const sub of ['verify', 'tail', 'show', 'query', 'stats', 'keygen']) {
      const r = cli([sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: warden audit/);
    }
    expect(cli([]).code).toBe(2);
    expect(cli(['frobnicate']).code).toBe(2);
  });
});
