import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT, WARDEN_MAIN } from '../../helpers/paths.js';
import {
  acmeUpstream, control, decisionMeta, wardenCli, pendingApproval, readAudit, readCallLog, startStdioWarden, waitForRecord, wardenDir, writeConfig,
  type AuditLine, type StdioWarden,
} from '../../helpers/audit-e2e-warden.js';
import { until } from '../../helpers/progress.js';
import { connectHttp, type ConnectedClient } from '../../helpers/mcp-clients.js';
import { spawnWardenHttp, type WardenHttpProcess } from '../../helpers/warden-process.js';
import { e2eKeys, IDP, mintSet, pushSet, RESOURCE, userToken, type E2eKeys } from '../../helpers/audit-e2e-identity.js';
import { generateSigningKey, mintToken } from '../../../src/identity/dev-tokens.js';
import type { AuditEventType } from '../../../src/audit/audit-sink.js';
import { AUDIT_FIELD_SPEC, matchShape } from '../../helpers/audit-field-spec.js';
import { startFlakyStreamServer } from '../../helpers/http-notify-upstream.js';

// Real processes on a shared 2-core machine: generous per-test limits; each wait has its own deadline.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

/**
 * Real agent sessions through `warden run` (stdio, then HTTP with identity and security events,
 * then restarts) in front of ACME, with a policy that gives every enforcement outcome its own tool.
 * Every run appends to one audit log; the last block checks it holds every event type and that
 * the CLI (verify, show, query, stats) reads it.
 */
const POLICY = join(REPO_ROOT, 'test/fixtures/e2e-audit/scenarios.yaml');
const SECRET_ENV = 'env-secret-4a7f19c2d8e6b3a1';
const SECRET_ARG = 'hunter2-arg-secret-9d3e';
const SECRET_HEADER = 'hdr-secret-5b1e0c77f2';

const d = wardenDir();
let w: StdioWarden;
const records = (): AuditLine[] => readAudit(d.auditFile);
const stepsOf = (callId: string): string[] => records().filter((r) => r.callId === callId).map((r) => r.type);
const text = (r: unknown): string => ((r as { content: { text: string }[] }).content[0]?.text ?? '');
const call = (name: string, args: Record<string, unknown> = {}, opts: { signal?: AbortSignal; timeout?: number } = {}) =>
  w.client.callTool({ name, arguments: args }, undefined, opts);

beforeAll(async () => {
  copyFileSync(POLICY, d.policyFile);
  writeConfig(d, {
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: acmeUpstream(d, { ACME_DB_PASSWORD_PLAIN: SECRET_ENV }) },
    timeouts: { callMs: 1000 },
    throttle: { buckets: [{ key: 'tool', ratePerMinute: 1, burst: 1 }], maxWaitMs: 0 },
    approvals: { timeoutMs: 2500 },
    pins: { file: join(d.dir, 'pins.json'), onNew: 'approve' },
  });
  w = await startStdioWarden(d.configFile);
}, 20_000);

afterAll(async () => {
  await w?.close().catch(() => undefined);
});

describe('audit trail through a real stdio warden', () => {
  it('lists the acme tools (a single upstream is not prefixed); the hidden tool is not listed', async () => {
    const names = (await w.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo');
    expect(names).not.toContain('list_customers');
  });

  it('a resource read, a prompt fetch, a subscription and a completion are judged as the virtual tools of their methods (call.* records, with the principal)', async () => {
    expect((await w.client.readResource({ uri: 'acme://files/docs/readme.txt' })).contents.length).toBe(1);
    const read = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'resources/read');
    expect(read).toMatchObject({ upstream: 'acme', args: { uri: 'acme://files/docs/readme.txt' }, principal: { anonymous: true } });
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === read.callId);
    expect(stepsOf(read.callId as string)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
    await w.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' });
    const sub = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'resources/subscribe');
    expect(sub).toMatchObject({ upstream: 'acme', args: { uri: 'acme://files/docs/readme.txt' }, principal: { anonymous: true } });
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === sub.callId);
    expect(stepsOf(sub.callId as string)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
    expect((await w.client.getPrompt({ name: 'summarize_customer', arguments: { name: 'Ada' } })).messages.length).toBe(1);
    const got = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'prompts/get');
    expect(got).toMatchObject({ upstream: 'acme', args: { name: 'summarize_customer', arguments: { name: 'Ada' } } });
    const ref = { type: 'ref/prompt', name: 'summarize_customer' } as const;
    expect((await w.client.complete({ ref, argument: { name: 'name', value: 'Customer 1' } })).completion.values.length).toBe(5);
    const completed = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'completion/complete');
    expect(completed).toMatchObject({ upstream: 'acme', args: { ref, argument: { name: 'name', value: 'Customer 1' } }, principal: { anonymous: true } });
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === completed.callId);
    expect(records().find((r) => r.type === 'call.result' && r.callId === completed.callId)).toMatchObject({ status: 'ok', resultItems: 5 });
    // A prompt the upstream does not list has no pinned definition: refused, never forwarded.
    await expect(w.client.getPrompt({ name: 'unlisted_prompt' })).rejects.toMatchObject({ code: -32602 });
    expect(records().filter((r) => r.type === 'request.refused')).toMatchObject([{ method: 'prompts/get', upstream: 'acme', prompt: 'unlisted_prompt', reason: 'prompt.unlisted' }]);
    // Judged and recorded as calls: no request.forwarded record any more.
    expect(records().filter((r) => r.type === 'request.forwarded')).toEqual([]);
  });

  it('an allowed call: received → risk → decision → forwarded → result share one callId, with the principal', async () => {
    const res = await call('echo', { message: 'nonce-allowed-1' });
    expect(text(res)).toBe('nonce-allowed-1');
    const received = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && (r.args as { message?: string })?.message === 'nonce-allowed-1');
    const callId = received.callId as string;
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === callId);
    expect(stepsOf(callId)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
    expect(received.argsDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(received.principal).toMatchObject({ user: 'anonymous', anonymous: true, actorChain: [] });
    const decision = records().find((r) => r.callId === callId && r.type === 'call.decision')!;
    expect(decision).toMatchObject({ action: 'allow', enforced: 'allow', rules: ['allow-basics'] });
    expect(decision.policyHash).toMatch(/^sha256:/);
    expect(records().find((r) => r.callId === callId && r.type === 'call.result')).toMatchObject({ status: 'ok' });
  });

  it('redacts a secret argument (password) but keeps the digest of the full arguments', async () => {
    await call('read_file', { path: '/docs/readme.txt', password: SECRET_ARG });
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && r.tool === 'read_file');
    expect(rec.args).toEqual({ path: '/docs/readme.txt', password: '[REDACTED]' });
    expect(rec.argsDigest).toMatch(/^sha256:/);
    expect(readFileSync(d.auditFile, 'utf8')).not.toContain(SECRET_ARG);
  });

  it('throttle: the first write is admitted, the second rejected; both audited with call.throttle', async () => {
    const first = await call('write_file', { path: '/tmp/a', content: 'nonce-throttle-1' });
    expect(first.isError).toBeFalsy();
    const second = await call('write_file', { path: '/tmp/b', content: 'nonce-throttle-2' });
    expect(second.isError).toBe(true);
    const throttles = records().filter((r) => r.type === 'call.throttle');
    expect(throttles.map((r) => r.outcome)).toEqual(['admitted', 'rejected']);
    const rejectedCall = throttles[1]!.callId as string;
    expect(stepsOf(rejectedCall)).not.toContain('call.forwarded');
    expect(readCallLog(d.callLog).some((c) => c.arguments.content === 'nonce-throttle-2')).toBe(false);
  });

  it('approval allowed (and remembered) by the admin: approval_requested/answered with `by`, grant created then revoked', async () => {
    const pending = call('delete_record', { table: 'crm', id: 4711 });
    const ap = await pendingApproval(d, 'delete_record');
    const answer = await control(d, 'POST', `/approvals/${ap.id}/allow`, { rememberMinutes: 5, argsDigest: ap.argsDigest, policyHash: ap.policyHash, callId: ap.callId });
    expect(answer.status).toBe(200);
    expect(text(await pending)).toBe('deleted crm#4711');
    await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.callId === ap.callId);
    expect(stepsOf(ap.callId)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.approval_requested', 'grant.created', 'call.approval_answered', 'call.forwarded', 'call.result']);
    const answered = records().find((r) => r.type === 'call.approval_answered' && r.callId === ap.callId)!;
    expect(answered).toMatchObject({ approvalId: ap.id, approved: true, by: 'admin' });
    const grantId = answer.body.grant.id as string;
    expect(records().some((r) => r.type === 'grant.created' && r.grantId === grantId)).toBe(true);
    // The same call again is allowed by the remembered grant: answered without asking anyone.
    expect(text(await call('delete_record', { table: 'crm', id: 4711 }))).toBe('deleted crm#4711');
    const byGrant = await waitForRecord(d.auditFile, (r) => r.type === 'call.approval_answered' && r.outcome === 'allowed_by_grant');
    expect(byGrant).toMatchObject({ grantId, approved: true, by: 'admin', how: 'grant' });
    expect((await control(d, 'DELETE', `/grants/${grantId}`)).status).toBe(200);
    await waitForRecord(d.auditFile, (r) => r.type === 'grant.revoked' && r.grantId === grantId);
  });

  it('approval denied: the agent gets a block result and the upstream is never called', async () => {
    const pending = call('send_email', { to: 'x@example.com', subject: 'nonce-denied', body: 'hi' });
    const ap = await pendingApproval(d, 'send_email');
    expect((await control(d, 'POST', `/approvals/${ap.id}/deny`, { reason: 'not today' })).status).toBe(200);
    const res = await pending;
    expect(res.isError).toBe(true);
    expect(decisionMeta(res)?.callId).toBe(ap.callId);
    const answered = records().find((r) => r.type === 'call.approval_answered' && r.callId === ap.callId)!;
    expect(answered).toMatchObject({ approved: false, by: 'admin', reason: 'not today' });
    expect(stepsOf(ap.callId)).not.toContain('call.forwarded');
    expect(readCallLog(d.callLog).some((c) => c.tool === 'send_email')).toBe(false);
  });

  it('approval timed out and approval withdrawn (agent cancels): both audited, neither forwarded', async () => {
    const timedOut = call('transfer_funds', { amount: 5, currency: 'EUR', payee: 'nonce-timeout' });
    const controller = new AbortController();
    const cancelled = call('export_customers', {}, { signal: controller.signal });
    const ap = await pendingApproval(d, 'export_customers');
    controller.abort();
    await expect(cancelled).rejects.toThrow();
    await waitForRecord(d.auditFile, (r) => r.type === 'call.approval_withdrawn' && r.callId === ap.callId);
    const res = await timedOut;
    expect(res.isError).toBe(true);
    const timeout = await waitForRecord(d.auditFile, (r) => r.type === 'call.approval_timeout');
    expect(stepsOf(timeout.callId as string)).not.toContain('call.forwarded');
    expect(stepsOf(ap.callId)).not.toContain('call.forwarded');
    expect(readCallLog(d.callLog).some((c) => c.tool === 'transfer_funds' || c.tool === 'export_customers')).toBe(false);
  }, 10_000);

  it('blocked by policy: decision block, block result to the agent, upstream never called', async () => {
    const res = await call('run_shell', { command: 'nonce-blocked rm -rf /' });
    expect(res.isError).toBe(true);
    const meta = decisionMeta(res)!;
    expect(meta.action).toBe('block');
    expect(stepsOf(meta.callId)).toEqual(['call.received', 'call.risk', 'call.decision']);
    expect(records().find((r) => r.callId === meta.callId && r.type === 'call.decision')).toMatchObject({ action: 'block', rules: ['block-shell'] });
    expect(readCallLog(d.callLog).some((c) => c.tool === 'run_shell')).toBe(false);
  });

  it('hidden tool: -32602 to the agent, a hidden block decision in the audit', async () => {
    await expect(call('list_customers', { limit: 1 })).rejects.toMatchObject({ code: -32602 });
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'call.decision' && r.hidden === true);
    expect(rec).toMatchObject({ action: 'block', tool: 'list_customers' });
  });

  it('upstream hang: the call times out and call.result says timeout', async () => {
    await expect(call('hang')).rejects.toThrow();
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.status === 'timeout');
    expect(stepsOf(rec.callId as string)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.forwarded', 'call.result']);
  });

  it('policy reload on SIGHUP after an edit (policy.loaded reload) and a broken edit (policy.reload_failed keeps the old hash)', async () => {
    const first = records().find((r) => r.type === 'policy.loaded')!;
    writeFileSync(d.policyFile, readFileSync(POLICY, 'utf8').replace('version: "e2e-1"', 'version: "e2e-2"'));
    process.kill(w.pid, 'SIGHUP');
    const reloaded = await waitForRecord(d.auditFile, (r) => r.type === 'policy.loaded' && r.reload === true);
    expect(reloaded.policyHash).not.toBe(first.policyHash);
    writeFileSync(d.policyFile, 'version: "e2e-3"\nrules: [ { id: broken, action: explode } ]\n');
    process.kill(w.pid, 'SIGHUP');
    const failed = await waitForRecord(d.auditFile, (r) => r.type === 'policy.reload_failed');
    expect(failed.keptPolicyHash).toBe(reloaded.policyHash);
    // The kept policy still judges: echo is allowed, and its decision carries the kept hash.
    await call('echo', { message: 'nonce-after-reload' });
    const dec = await waitForRecord(d.auditFile, (r) => r.type === 'call.decision' && r.seq > (failed.seq as number) && r.tool === 'echo');
    expect(dec.policyHash).toBe(reloaded.policyHash);
  });

  it('pins: first listing accepted, a new tool appearing later is held (pins.changed), then accepted with the CLI', async () => {
    expect(records().some((r) => r.type === 'pins.accepted' && r.by === 'first-use')).toBe(true);
    await call('toggle_beta_tools', { enabled: true });
    await until(() => {
      void w.client.listTools().catch(() => undefined);
      return records().some((r) => r.type === 'pins.changed' && r.tool === 'beta_report');
    }, 8000);
    // The running warden watches the pin file and records the accept it finds there.
    const accepted = wardenCli(['pins', 'accept', '--file', join(d.dir, 'pins.json'), '--tool', 'beta_report']);
    expect(accepted.code, accepted.stderr).toBe(0);
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'pins.accepted' && r.tool === 'beta_report');
    expect(rec.digest).toMatch(/^sha256:/);
  });

  it('upstream crash: call.result status error for the crashing call', async () => {
    await expect(Promise.resolve(call('crash')).then((r) => (r.isError ? Promise.reject(r) : r))).rejects.toBeDefined();
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'call.result' && r.status === 'error');
    expect(stepsOf(rec.callId as string)).toContain('call.forwarded');
  });

  it('operator revokes the stdio session: revocation recorded, later calls fail identity (call.identity ok=false) and are blocked', async () => {
    const sessionId = records().find((r) => r.type === 'session.opened')!.sessionId as string;
    expect((await control(d, 'POST', '/revoke', { session: sessionId })).status).toBe(200);
    await waitForRecord(d.auditFile, (r) => r.type === 'revocation');
    // The subscription made above (restored after the crash) ends with the revocation.
    expect(await waitForRecord(d.auditFile, (r) => r.type === 'subscription.ended')).toMatchObject({ sessionId, reason: 'revoked', uri: 'acme://files/docs/readme.txt' });
    const res = await call('echo', { message: 'nonce-after-revoke' });
    expect(decisionMeta(res)?.reason).toBe('revoked');
    const callId = decisionMeta(res)!.callId;
    expect(stepsOf(callId)).toEqual(['call.received', 'call.identity', 'call.decision']);
    expect(records().find((r) => r.callId === callId && r.type === 'call.identity')).toMatchObject({ ok: false, reason: 'revoked' });
    expect(readCallLog(d.callLog).some((c) => c.arguments.message === 'nonce-after-revoke')).toBe(false);
  });

  it('session close and warden stop are audited when the agent disconnects', async () => {
    await w.close();
    await waitForRecord(d.auditFile, (r) => r.type === 'warden.stop');
    const types = records().map((r) => r.type);
    expect(types).toContain('session.opened');
    expect(types).toContain('session.closed');
    expect(types.indexOf('warden.start')).toBeLessThan(types.indexOf('config.loaded'));
  });

  it('config at start-up is recorded without the upstream secret', () => {
    const cfg = records().find((r) => r.type === 'config.loaded')!;
    expect(JSON.stringify(cfg.config)).toContain('ACME_DB_PASSWORD_PLAIN');
    expect(readFileSync(d.auditFile, 'utf8')).not.toContain(SECRET_ENV);
  });
});


/**
 * The same audit log, next run: warden over Streamable HTTP with JWT identity (RFC 8693 actor
 * chains) and a Security Event Token receiver.
 */
describe('audit trail through a real HTTP warden with identity and security events', () => {
  let keys: E2eKeys;
  let http: WardenHttpProcess;
  let eventsUrl: string;
  let alice: ConnectedClient & { transport: { sessionId?: string } };
  const tokens: string[] = [];

  beforeAll(async () => {
    copyFileSync(POLICY, d.policyFile);
    keys = await e2eKeys(d.dir);
    http = await spawnWardenHttp({
      // Small per-principal cap so the session.refused scenario is cheap; alice and bob hold one each.
      listen: { stdio: false, http: { port: 0, maxSessionsPerPrincipal: 2, maxSessionsPerClient: 2 } },
      identity: keys.identity,
      events: keys.events,
      upstreams: { acme: acmeUpstream(d) },
      policy: { files: [d.policyFile], watch: false },
      audit: { file: d.auditFile },
      control: { port: 0, adminTokenFile: d.adminTokenFile },
      pins: { file: join(d.dir, 'pins.json') },
    });
    const line = http.stderr.map((l) => JSON.parse(l) as { msg?: string; url?: string }).find((l) => l.msg === 'security event receiver listening');
    eventsUrl = line!.url!;
  }, 20_000);

  afterAll(async () => {
    await alice?.close().catch(() => undefined);
    await http?.stop();
  });

  it('rejects a token signed by an untrusted key: 401 and identity.failed (the token is not recorded)', async () => {
    const rogue = await generateSigningKey({ kid: 'e2e-token-1' });
    const forged = await mintToken({ key: rogue, issuer: IDP, audience: RESOURCE, subject: 'mallory', actor: 'agent-x' });
    tokens.push(forged);
    const res = await fetch(http.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${forged}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(res.status).toBe(401);
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'identity.failed');
    expect(rec.reason).toEqual(expect.any(String));
  });

  it('summarises a flood of requests without a token (identity.failures_suppressed, written when warden stops)', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    // Past the per-address limit (10 a minute, one used by the forged token above).
    const statuses = await Promise.all(Array.from({ length: 15 }, () => fetch(http.url, { method: 'POST', headers, body }).then((r) => r.status)));
    expect(statuses).toEqual(Array(15).fill(401));
  });

  it('alice via agent-1 ← orchestrator: every record of her call carries the principal with the actor chain', async () => {
    const token = await userToken(keys, 'alice', 'agent-1', ['orchestrator']);
    tokens.push(token);
    alice = await connectHttp(http.url, { token });
    const res = await alice.client.callTool({ name: 'echo', arguments: { message: 'nonce-http-alice' } });
    expect((res.content as { text: string }[])[0]!.text).toBe('nonce-http-alice');
    const received = await waitForRecord(d.auditFile, (r) => r.type === 'call.received' && (r.args as { message?: string }).message === 'nonce-http-alice');
    const principal = { issuer: IDP, user: 'alice', actor: 'agent-1', actorChain: ['agent-1', 'orchestrator'], anonymous: false };
    expect(received.principal).toMatchObject(principal);
    expect(records().find((r) => r.callId === received.callId && r.type === 'call.decision')!.principal).toMatchObject(principal);
    expect(records().find((r) => r.type === 'session.opened' && r.sessionId === received.sessionId)).toMatchObject({ transport: 'http', principal });
  });

  it('rejects bob riding on alice\'s session (session.hijack_rejected)', async () => {
    const bob = await userToken(keys, 'bob', 'agent-2');
    tokens.push(bob);
    const res = await fetch(http.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob}`, 'mcp-session-id': alice.transport.sessionId!, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }),
    });
    expect(res.status).toBe(403);
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'session.hijack_rejected' && r.sessionId === alice.transport.sessionId);
    expect(rec).toMatchObject({ expected: { user: 'alice', actor: 'agent-1' }, presented: { user: 'bob', actor: 'agent-2' } });
  });

  it('carol opening sessions in a loop: the third is refused with 429 (session.refused), her open ones still work', async () => {
    const carol = await userToken(keys, 'carol', 'agent-3');
    tokens.push(carol);
    const first = await connectHttp(http.url, { token: carol });
    const second = await connectHttp(http.url, { token: carol });
    try {
      const res = await fetch(http.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'loop', version: '1' } } }),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      expect(await res.json()).toMatchObject({ id: 7, error: { code: -32000, message: expect.stringMatching(/limit 2/) } });
      const rec = await waitForRecord(d.auditFile, (r) => r.type === 'session.refused');
      expect(rec).toMatchObject({ reason: 'too_many_sessions_for_principal', open: 2, limit: 2, principal: { user: 'carol', actor: 'agent-3' } });
      expect(text(await second.client.callTool({ name: 'echo', arguments: { message: 'carol still here' } }))).toBe('carol still here');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('token-claims-change SET: event.received, event.effect claims, and alice\'s next call records call.identity (claims_override)', async () => {
    const set = await mintSet(keys, 'alice', 'token-claims-change', { claims: { groups: ['contractors'] } });
    expect(await pushSet(eventsUrl, set)).toBe(202);
    await waitForRecord(d.auditFile, (r) => r.type === 'event.effect' && r.effect === 'claims');
    expect(records().some((r) => r.type === 'event.received' && r.accepted === true && r.duplicate === false)).toBe(true);
    // A redelivery is acknowledged and audited as a duplicate; something that is not a SET is refused.
    expect(await pushSet(eventsUrl, set)).toBe(202);
    await waitForRecord(d.auditFile, (r) => r.type === 'event.received' && r.duplicate === true);
    expect(await pushSet(eventsUrl, 'not-a-signed-set')).toBe(400);
    expect(await waitForRecord(d.auditFile, (r) => r.type === 'event.received' && r.accepted === false)).toMatchObject({ err: 'invalid_request' });
    await alice.client.callTool({ name: 'echo', arguments: { message: 'nonce-http-claims' } });
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'call.identity' && r.ok === true);
    expect(rec).toMatchObject({ reason: 'claims_override', principal: { user: 'alice' } });
  });

  it('session-revoked SET: event.effect revoke, a revocation record, alice\'s subscription ended and her HTTP session closed', async () => {
    await alice.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' });
    expect(await pushSet(eventsUrl, await mintSet(keys, 'alice', 'session-revoked', {}))).toBe(202);
    await waitForRecord(d.auditFile, (r) => r.type === 'event.effect' && r.effect === 'revoke');
    await waitForRecord(d.auditFile, (r) => r.type === 'revocation' && JSON.stringify(r).includes('alice'));
    await waitForRecord(d.auditFile, (r) => r.type === 'session.closed' && r.sessionId === alice.transport.sessionId);
    const ended = records().find((r) => r.type === 'subscription.ended' && r.sessionId === alice.transport.sessionId);
    expect(ended).toMatchObject({ reason: 'revoked', ended: true, principal: { user: 'alice' }, eventId: expect.any(String) });
    expect(await http.stop()).toBe(0);
    const bytes = readFileSync(d.auditFile, 'utf8');
    for (const t of tokens) expect(bytes).not.toContain(t.split('.')[2]);
  });
});

describe('restart after SIGKILL continues the chain', () => {
  it('a killed warden leaves an unclean log; the next run records audit.recovered and continues', async () => {
    writeConfig(d, { dangerouslyAllowAnonymous: true, upstreams: { acme: acmeUpstream(d) }, pins: { file: join(d.dir, 'pins.json') } });
    const killed = await startStdioWarden(d.configFile);
    await killed.client.callTool({ name: 'echo', arguments: { message: 'nonce-before-kill' } });
    process.kill(killed.pid, 'SIGKILL');
    await killed.close().catch(() => undefined);
    const again = await startStdioWarden(d.configFile);
    const rec = await waitForRecord(d.auditFile, (r) => r.type === 'audit.recovered');
    expect(rec.reasons).toContain('unclean_shutdown');
    await again.client.callTool({ name: 'echo', arguments: { message: 'nonce-after-restart' } });
    await again.close();
    await waitForRecord(d.auditFile, (r) => r.type === 'warden.stop' && r.seq > (rec.seq as number));
  }, 20_000);

  it('an HTTP upstream header secret: config.loaded names the header, never its value', async () => {
    writeConfig(d, {
      dangerouslyAllowAnonymous: true, pins: { enabled: false }, control: { enabled: false },
      upstreams: { acme: acmeUpstream(d), remote: { url: 'http://127.0.0.1:9/mcp', headers: { 'X-Upstream-Auth': SECRET_HEADER } } },
    });
    const before = records().length;
    const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', d.configFile], { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let log = '';
    child.stderr!.on('data', (c: Buffer) => (log += c.toString('utf8')));
    // SIGTERM is handled once warden is up; before that the default action would kill it.
    await until(() => log.includes('"warden started"'), 15_000);
    const loaded = await waitForRecord(d.auditFile, (r) => r.type === 'config.loaded' && r.seq > before);
    expect((loaded.config as { upstreams: { remote: { headers: Record<string, string> } } }).upstreams.remote.headers).toEqual({ 'X-Upstream-Auth': '[redacted]' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readFileSync(d.auditFile, 'utf8')).not.toContain(SECRET_HEADER);
  });

  it('a decision over its time budget fails closed: call.error, block result, upstream never called', async () => {
    writeConfig(d, {
      dangerouslyAllowAnonymous: true, upstreams: { acme: acmeUpstream(d) }, pins: { file: join(d.dir, 'pins.json') },
      policy: { files: [join(REPO_ROOT, 'test/fixtures/e2e-audit/slow-decision.yaml')], watch: false, decisionBudgetMs: 1 },
    });
    const slow = await startStdioWarden(d.configFile);
    const huge = `nonce-budget-${'x'.repeat(3_000_000)}`;
    const res = await slow.client.callTool({ name: 'echo', arguments: { message: huge } });
    await slow.close();
    expect(decisionMeta(res)).toMatchObject({ action: 'block', reason: 'decision_budget_exceeded' });
    const err = records().find((r) => r.type === 'call.error' && r.callId === decisionMeta(res)!.callId)!;
    expect(err).toMatchObject({ code: 'decision_budget_exceeded', stage: 'guard' });
    expect(readCallLog(d.callLog).some((c) => String(c.arguments.message).startsWith('nonce-budget-'))).toBe(false);
  }, 20_000);
});

describe('an HTTP upstream whose standing GET stream the server refuses', () => {
  it('records upstream.stream_lost, then upstream.stream_restored once warden re-opened it, in the same session', async () => {
    // The first opening gets 503 (the SDK never retries it), warden's first try 500, its second the stream.
    const server = await startFlakyStreamServer({ FLAKY_GET_STATUSES: '503,500' });
    try {
      writeConfig(d, { dangerouslyAllowAnonymous: true, pins: { enabled: false }, control: { enabled: false }, upstreams: { flaky: { url: server.url } } });
      const before = records().length;
      const flaky = await startStdioWarden(d.configFile);
      const lost = await waitForRecord(d.auditFile, (r) => r.type === 'upstream.stream_lost' && r.seq > before);
      const restored = await waitForRecord(d.auditFile, (r) => r.type === 'upstream.stream_restored' && r.seq > lost.seq);
      expect(lost).toMatchObject({ upstream: 'flaky', reason: expect.stringMatching(/HTTP 503/) });
      expect(restored).toMatchObject({ upstream: 'flaky', sessionId: lost.sessionId, attempts: 2 });
      await flaky.close();
    } finally {
      await server.stop();
    }
  }, 20_000);
});

const ALL_TYPES: Record<AuditEventType, true> = {
  'warden.start': true, 'warden.stop': true, 'config.loaded': true, 'policy.loaded': true, 'policy.reload_failed': true,
  'session.opened': true, 'session.closed': true, 'session.hijack_rejected': true, 'session.refused': true, 'identity.failed': true, 'identity.failures_suppressed': true,
  'call.received': true, 'call.identity': true, 'call.risk': true, 'call.decision': true, 'call.throttle': true,
  'call.approval_requested': true, 'call.approval_answered': true, 'call.approval_timeout': true, 'call.approval_withdrawn': true,
  'call.forwarded': true, 'call.result': true, 'call.error': true, 'grant.created': true, 'grant.revoked': true,
  'event.received': true, 'event.effect': true, revocation: true, 'pins.changed': true, 'pins.accepted': true, 'upstream.stream_lost': true, 'upstream.stream_restored': true,
  'request.refused': true, 'subscription.ended': true, 'audit.recovered': true,
};

describe('the whole log of these runs', () => {
  it('has every audit event type, each produced by a real scenario', () => {
    const seen = new Set(records().map((r) => r.type));
    const missing = Object.keys(ALL_TYPES).filter((t) => !seen.has(t));
    expect(missing).toEqual([]);
  });

  it('every record has exactly the documented fields of its type (README table = AuditEventFields)', () => {
    const all = records();
    const problems = all.map((r) => matchShape(r)).flatMap((m) => (m.ok ? [] : [m.problem]));
    expect(problems).toEqual([]);
  });

  it('every documented shape of every type is produced by a real scenario', () => {
    // The sink's write-failure recovery needs a failing disk: test/audit/file-audit-sink.test.ts
    // and audit-disk-full.test.ts produce it and check its fields.
    // A throttled call refused because the policy was replaced while it waited: test/e2e/policy/reload.test.ts.
    // A call whose token expired while it waited for a human: test/e2e/enforcement/token-refreshed-while-waiting-stdio.test.ts.
    // A request over its session's bound on requests in flight: test/proxy/http-requests-in-flight.test.ts.
    // Held prompts and resource templates, and first use of templates: test/e2e/pins/withheld-prompts.test.ts.
    // A read through a held resource template: test/e2e/pins/held-template-reads.test.ts.
    // A URI too long to judge against the templates: test/proxy/long-uri-reads.test.ts.
    // A standing subscription re-judged after a reload or before a restore, or whose caller's token expired: test/e2e/events/subscriptions-follow-risk.test.ts.
    const elsewhere = new Set([
      'request.refused/uri too long', 'subscription.ended/policy', 'subscription.ended/token expired',
      'audit.recovered/write-recovery', 'call.decision/policy-changed', 'call.decision/token-expired', 'request.refused/in-flight bound',
      'pins.changed/prompt', 'pins.changed/resource template', 'pins.accepted/prompt', 'pins.accepted/resource template', 'pins.accepted/first-use resource templates',
      'request.refused/resource template',
    ]);
    const seen = new Set(records().flatMap((r) => {
      const m = matchShape(r);
      return m.ok ? [`${r.type}/${m.shape}`] : [];
    }));
    const documented = Object.entries(AUDIT_FIELD_SPEC).flatMap(([type, shapes]) => shapes.map((s) => `${type}/${s.shape}`));
    expect(documented.filter((k) => !seen.has(k) && !elsewhere.has(k))).toEqual([]);
  });

  it('key values: policy hash on every policy decision, one callId per call', () => {
    const all = records();
    // Decisions always name the policy version they were made under, except the hidden-tool
    // short-cut (decided from the compiled hide list before any rule runs).
    for (const r of all.filter((x) => x.type === 'call.decision' && x.hidden !== true && x.reason !== 'revoked')) expect(r.policyHash, `#${r.seq}`).toMatch(/^sha256:/);
    // Every call.* record of one call shares its callId with that call's call.received (or decision).
    const opened = new Set(all.filter((r) => r.type === 'call.received' || r.type === 'call.decision').map((r) => r.callId));
    for (const r of all.filter((x) => x.type.startsWith('call.'))) expect(opened.has(r.callId), `${r.type} #${r.seq}`).toBe(true);
  });

  it('never contains a secret: upstream env and header values, password argument', () => {
    const bytes = readFileSync(d.auditFile, 'utf8');
    expect(bytes).not.toContain(SECRET_ENV);
    expect(bytes).not.toContain(SECRET_ARG);
    expect(bytes).not.toContain(SECRET_HEADER);
  });

  it('warden audit verify passes (exit 0)', () => {
    const r = wardenCli(['audit', 'verify', d.auditFile, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; records: number };
    expect(report.ok).toBe(true);
    expect(report.records).toBe(records().length);
  });

  it('warden audit show tells the story of the approved call, with the approver', () => {
    const callId = records().find((r) => r.type === 'call.approval_answered' && r.approved === true)!.callId as string;
    const r = wardenCli(['audit', 'show', callId, '--file', d.auditFile]);
    expect(r.code, r.stderr).toBe(0);
    const order = ['call.received', 'call.risk', 'call.decision', 'call.approval_requested', 'call.approval_answered', 'call.forwarded', 'call.result'];
    const positions = order.map((t) => r.stdout.indexOf(t));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(r.stdout).toContain('by=admin');
    expect(r.stdout).toContain('tool=delete_record');
  });

  it('warden audit query --tool echo --json lists the echo calls with user, agent and status', () => {
    const r = wardenCli(['audit', 'query', '--tool', 'echo', '--json', '--file', d.auditFile]);
    expect(r.code, r.stderr).toBe(0);
    const calls = JSON.parse(r.stdout) as { tool: string; user: string; agent: string | null; action: string; status: string | null }[];
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls.every((c) => c.tool === 'echo')).toBe(true);
    expect(calls.some((c) => c.user === 'alice' && c.agent === 'agent-1' && c.status === 'ok')).toBe(true);
    expect(calls.some((c) => c.user === 'anonymous' && c.action === 'block')).toBe(true); // the revoked stdio call
  });

  it('warden audit stats --json counts decisions per action and the top blocked tools', () => {
    const r = wardenCli(['audit', 'stats', '--json', '--file', d.auditFile]);
    expect(r.code, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout) as { calls: number; decisions: Record<string, number>; topBlockedTools: { tool: string }[] };
    expect(stats.decisions).toMatchObject({ allow: expect.any(Number), block: expect.any(Number), approve: expect.any(Number), throttle: expect.any(Number) });
    expect(stats.topBlockedTools.map((t) => t.tool)).toEqual(expect.arrayContaining(['run_shell', 'list_customers']));
    expect(stats.calls).toBe(new Set(records().filter((r) => r.type.startsWith('call.') && r.callId).map((r) => r.callId)).size);
  });
});
