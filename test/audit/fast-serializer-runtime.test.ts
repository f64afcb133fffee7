import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-sink.js';
import { FileAuditSink } from '../../src/audit/file-audit-sink.js';
import type { FieldSerializer } from '../../src/audit/record-codec.js';
import { createCanonicalRedactor } from '../../src/audit/redact-canonical.js';
import { sinkRedactRules } from '../../src/audit/start-audit-sink.js';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import type { Principal } from '../../src/core/principal.js';
import type { GuardVerdict, SessionInfo, ToolDefinition } from '../../src/core/tool-call.js';
import { silentLogger } from '../../src/logging/logger.js';
import { composeRuntime, type Runtime } from '../../src/runtime/compose-runtime.js';
import { callRequest } from '../fixtures/enforce/call-fixtures.js';
import { assembleReference, genericFieldTexts, type FieldTexts } from '../helpers/audit-reference-encoding.js';
import { makePrincipal } from '../helpers/principal-builder.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from './audit-test-helpers.js';

/**
 * The real runtime (composeRuntime: policy, pins, throttle, approvals, control API, the real file
 * sink) driven through its guard in this process. Every event the sink is handed is also written
 * by the generic walk at that moment; at the end every line in the file must be exactly the
 * reference line of its event at its chain position.
 */
const dir = tempDir('warden-fast-serializer-');
const configFile = join(dir, 'warden.yaml');
const snapshots: { type: string; texts: FieldTexts }[] = [];
let runtime: Runtime;

/** Observes what the sink is handed (not a stand-in: the real method runs and writes). */
function observeSink(generic: FieldSerializer): void {
  let inside = 0;
  for (const name of ['record', 'recordBatch'] as const) {
    const original = FileAuditSink.prototype[name] as (this: FileAuditSink, arg: unknown) => void;
    vi.spyOn(FileAuditSink.prototype, name).mockImplementation(function (this: FileAuditSink, arg: unknown) {
      // recordBatch of one event calls record: snapshot the outermost call only.
      const events = (inside === 0 ? (name === 'record' ? [arg] : arg) : []) as AuditEvent[];
      const taken = events.map((e) => ({ type: e.type, texts: genericFieldTexts(e, generic) }));
      inside += 1;
      try {
        original.call(this, arg);
      } finally {
        inside -= 1;
      }
      snapshots.push(...taken);
    } as never);
  }
}

const frozenPrincipal: Principal = Object.freeze(makePrincipal({
  issuer: 'https://idp.example', user: 'alice', actor: 'agent-7', priorActors: Object.freeze(['planner']),
  scopes: Object.freeze(['tools:read']), clientId: 'cli', tokenId: 'jti-9',
}));
const session: SessionInfo = { sessionId: 'sess-fast-1', principal: frozenPrincipal, transport: 'http', remoteAddress: '127.0.0.1', userAgent: 'agent\u202e/1.0 Bearer abcdefghijkl', openedAt: 0 };
const hostileArgs = JSON.parse(JSON.stringify({
  message: 'Bearer abcdefghijklmnop \u202e\u0085', card: { number: '4111111111111111', exp: '12/30' }, password: 'hunter2',
  n: [-0, 1e21, 1.5], deep: JSON.parse(`${'{"d":'.repeat(40)}"bottom"${'}'.repeat(40)}`),
}).replace('"message"', '"__proto__":{"polluted":true},"constructor":{"x":1},"message"')) as Record<string, unknown>;
const tools: ToolDefinition[] = ['echo', 'write_file', 'delete_record', 'run_shell', 'list_customers'].map((name) => ({ name, description: `the ${name} tool`, inputSchema: { type: 'object' } }));

async function call(tool: string, args: Record<string, unknown> = hostileArgs, abort?: (c: AbortController) => void): Promise<GuardVerdict> {
  const { req, abort: controller } = callRequest({ tool, upstream: 'acme', exposedName: tool, sessionId: session.sessionId, principal: frozenPrincipal, arguments: args, transport: 'http' });
  abort?.(controller);
  const verdict = await runtime.guard.checkToolCall(req);
  if (verdict.kind === 'forward') verdict.onOutcome?.({ status: 'ok', durationMs: 3.25, resultBytes: 40, resultItems: 1, result: { content: [{ type: 'text', text: `ok \u202e ${JSON.stringify(args).length}` }] } });
  return verdict;
}

beforeAll(async () => {
  copyFileSync(join(REPO_ROOT, 'test/fixtures/e2e-audit/scenarios.yaml'), join(dir, 'policy.yaml'));
  writeFileSync(configFile, '');
  const config = WardenConfigSchema.parse({
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: { command: process.execPath, args: ['unused.js'] } },
    policy: { files: [join(dir, 'policy.yaml')], watch: false },
    audit: { file: join(dir, 'audit.jsonl'), redact: { paths: ['card.number'], patterns: ['hunter\\d'] } },
    throttle: { buckets: [{ key: 'tool', ratePerMinute: 1, burst: 1 }], maxWaitMs: 0 },
    pins: { file: join(dir, 'pins.json'), onNew: 'allow', onChange: 'approve' },
  });
  observeSink(createCanonicalRedactor(sinkRedactRules(config.audit.redact)));
  runtime = await composeRuntime(config, configFile, silentLogger(), {});
}, 20_000);

afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('the real runtime writes exactly what the generic walk writes', () => {
  it('for sessions, pins, allowed, throttled, approval-held, blocked and hidden calls', async () => {
    runtime.guard.onToolsListed?.('acme', tools);
    runtime.guard.onSessionOpened?.(session);
    for (let i = 0; i < 3; i++) expect((await call('echo', { ...hostileArgs, i })).kind).toBe('forward');
    await call('write_file');
    await call('write_file'); // the bucket allows one call a minute: this one is rejected
    // Withdrawn by the agent while held for approval.
    await call('delete_record', hostileArgs, (c) => setTimeout(() => c.abort(), 50));
    await call('run_shell');
    await call('list_customers');
    runtime.guard.onToolsListed?.('acme', tools.map((t) => (t.name === 'echo' ? { ...t, description: 'changed \u202e key AKIAIOSFODNN7EXAMPLE' } : t)));
    runtime.guard.onSessionClosed?.(session, 'client_closed');
    await runtime.close('test_end');

    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(snapshots.length);
    lines.forEach((line, i) => {
      const { seq, ts, prev } = JSON.parse(line) as { seq: number; ts: string; prev: string };
      expect(`${line}\n`, `line ${i + 1} (${snapshots[i]!.type})`).toBe(assembleReference(snapshots[i]!.texts, { seq, ts, prev }).line);
    });
    const types = new Set(snapshots.map((s) => s.type));
    for (const t of ['warden.start', 'config.loaded', 'policy.loaded', 'pins.accepted', 'pins.changed', 'session.opened', 'call.received', 'call.risk',
      'call.decision', 'call.forwarded', 'call.result', 'call.throttle', 'call.approval_requested', 'call.approval_withdrawn', 'session.closed', 'warden.stop']) {
      expect(types, t).toContain(t);
    }
    // Redaction still applies in what was written: policy path, pattern, key name, built-in scrub.
    const text = lines.join('\n');
    for (const secret of ['4111111111111111', 'hunter2', 'abcdefghijkl', 'AKIAIOSFODNN7EXAMPLE']) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/[\u202e\u0085]/);
  }, 30_000);
});
