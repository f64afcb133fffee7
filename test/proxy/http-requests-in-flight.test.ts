import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRecords } from '../../src/audit/read-records.js';
import type { AuditRecord } from '../../src/audit/record-codec.js';
import { matchShape } from '../helpers/audit-field-spec.js';
import { openHttpSession, type HttpAnswer } from '../helpers/hostile-http.js';
import { REPO_ROOT, transparentGuardrails, WARDEN_MAIN } from '../helpers/paths.js';
import { spawnWardenHttp, tempDir, writeTempConfig, type WardenHttpProcess } from '../helpers/warden-process.js';
import { until as untilProbe } from '../helpers/ops-warden.js';

const SERVER = join(REPO_ROOT, 'test/fixtures/proxy/cancel-deaf-server.mjs');
const LIMIT = 3;

type LogEntry = { event: 'start' | 'end' | 'cancel'; id: number };

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const until = (what: string, check: () => boolean): Promise<void> => untilProbe(check, 10_000, what);

/** The real warden on Streamable HTTP in front of cancel-deaf-server.mjs, at most LIMIT requests in flight per session. */
async function startWarden() {
  const dir = tempDir('warden-inflight-');
  const callLog = join(dir, 'calls.jsonl');
  const auditFile = join(dir, 'audit.jsonl');
  const w: WardenHttpProcess = await spawnWardenHttp({
    dangerouslyAllowAnonymous: true,
    listen: { stdio: false, http: { port: 0, maxRequestsInFlightPerSession: LIMIT } },
    upstreams: { deaf: { command: process.execPath, args: [SERVER], env: { CALL_LOG: callLog } } },
    audit: { file: auditFile },
    ...transparentGuardrails(),
  });
  closers.push(w.stop);
  const upstreamLog = (): LogEntry[] => (existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry) : []);
  const starts = (): number => upstreamLog().filter((e) => e.event === 'start').length;
  const audit = (): AuditRecord[] => (existsSync(auditFile) ? parseRecords(readFileSync(auditFile, 'utf8')) : []);
  return { w, starts, upstreamLog, audit };
}

const call = (id: number | string, args: Record<string, unknown>, name = 'slow'): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** A POST whose answer is not awaited now; a broken stream (after the test ends) is no failure here. */
function pending(p: Promise<HttpAnswer>): Promise<HttpAnswer | undefined> {
  return p.catch(() => undefined);
}

describe('an HTTP agent that holds more requests open on one session than maxRequestsInFlightPerSession', () => {
  it('refuses the request over the bound with 429 and -32000 without forwarding it, audits request.refused, and accepts again once one is answered', async () => {
    const t = await startWarden();
    const s = await openHttpSession(t.w.url);
    // LIMIT slow calls held open (1.5 s each upstream).
    const open = [1, 2, 3].map((id) => pending(s.post(call(id, { ms: 1_500, label: String(id) }))));
    await until('the upstream to run every held call', () => t.starts() === LIMIT);
    const over = await s.post(call(4, { ms: 10, label: 'over' }));
    expect(over.status).toBe(429);
    expect(over.messages).toEqual([
      {
        jsonrpc: '2.0',
        id: 4,
        error: {
          code: -32000,
          message: `too many requests in flight on this session (${LIMIT}, limit ${LIMIT}: listen.http.maxRequestsInFlightPerSession); wait for an answer before sending more`,
          data: { reason: 'too_many_requests_in_flight', limit: LIMIT },
        },
      },
    ]);
    // Every method counts, not only tools/call.
    expect((await s.post(JSON.stringify({ jsonrpc: '2.0', id: 'list', method: 'tools/list', params: {} }))).status).toBe(429);
    // Nothing of the refused requests reached the upstream.
    await sleep(200);
    expect(t.starts()).toBe(LIMIT);
    const refused = t.audit().filter((r) => r.type === 'request.refused');
    expect(refused.map((r) => r.method)).toEqual(['tools/call', 'tools/list']);
    expect(refused[0]).toMatchObject({ sessionId: s.sessionId, reason: 'too_many_requests_in_flight', open: LIMIT, limit: LIMIT, principal: expect.any(Object) });
    expect(matchShape(refused[0]!)).toMatchObject({ ok: true });
    // One answered: a new request is accepted and runs.
    const first = await open[0];
    expect(first?.messages.at(-1)).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: 'slow 1 done' }] } });
    const again = await s.post(call(5, {}, 'quick'));
    expect(again.status).toBe(200);
    expect(again.messages.at(-1)).toMatchObject({ id: 5, result: { content: [{ type: 'text', text: 'quick' }] } });
    await Promise.all(open);
    // Other sessions have their own bound, and warden lives on.
    const other = await openHttpSession(t.w.url);
    expect((await other.post(call(6, {}, 'quick'))).messages.at(-1)).toMatchObject({ id: 6, result: expect.any(Object) });
  });

  it('counts a cancelled call the upstream is still running: cancel-and-send-again cannot exceed the bound', async () => {
    const t = await startWarden();
    const s = await openHttpSession(t.w.url);
    // LIMIT calls that the upstream runs on after their cancel (2 s each).
    for (const id of [1, 2, 3]) {
      void pending(s.post(call(id, { ms: 2_000, onCancel: 'ignore' })));
      await until(`call ${id} to start upstream`, () => t.starts() === id);
      const cancel = await s.post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'stop' } }));
      expect(cancel.status).toBe(202);
    }
    await until('the upstream to see every cancel', () => t.upstreamLog().filter((e) => e.event === 'cancel').length === LIMIT);
    const over = await s.post(call(4, {}, 'quick'));
    expect(over.status).toBe(429);
    expect(over.messages[0]).toMatchObject({ id: 4, error: { code: -32000, data: { reason: 'too_many_requests_in_flight' } } });
    // Their late answers arrive (dropped): the session has room again.
    await until('the cancelled calls to end upstream', () => t.upstreamLog().filter((e) => e.event === 'end').length === LIMIT);
    await sleep(100);
    const again = await s.post(call(5, {}, 'quick'));
    expect(again.messages.at(-1)).toMatchObject({ id: 5, result: { content: [{ type: 'text', text: 'quick' }] } });
  });

  it('refuses a second request under the id of one still open on the session (-32600); the open one still counts (an id cannot be reused to escape the bound)', async () => {
    const t = await startWarden();
    const s = await openHttpSession(t.w.url);
    const held = pending(s.post(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'slow', arguments: { ms: 1_000 } } })));
    await until('the call to start upstream', () => t.starts() === 1);
    const dup = await s.post(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'tools/list', params: {} }));
    expect(dup.messages.at(-1)).toMatchObject({ id: 'x', error: { code: -32600 } });
    void held;
    // The held call still counts: LIMIT - 1 more fit, the next is refused.
    const more = [1, 2].map((id) => pending(s.post(call(id, { ms: 1_000 }))));
    await until('the upstream to run them', () => t.starts() === LIMIT);
    expect((await s.post(call(9, {}, 'quick'))).status).toBe(429);
    await Promise.all(more);
  });
});

describe('a request of a bounded HTTP session that ends without an answer', () => {
  it('stops counting a throttled call whose stream the agent closed while it waited (abandoned, never forwarded)', async () => {
    const dir = tempDir('warden-inflight-');
    const callLog = join(dir, 'calls.jsonl');
    // `slow` throttled one at a time per principal, a waiting call may wait 20 s; two requests per session.
    const w = await spawnWardenHttp({
      dangerouslyAllowAnonymous: true,
      listen: { stdio: false, http: { port: 0, maxRequestsInFlightPerSession: 2 } },
      upstreams: { deaf: { command: process.execPath, args: [SERVER], env: { CALL_LOG: callLog } } },
      policy: { files: [join(REPO_ROOT, 'test/fixtures/proxy/throttle-slow.yaml')], watch: false },
      pins: { onNew: 'allow' },
      throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 60_000, burst: 1_000 }], maxConcurrentPerPrincipal: 1, maxWaitMs: 20_000 },
    });
    closers.push(w.stop);
    const starts = (): number => (existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').filter((l) => l.includes('"start"')).length : 0);
    const s = await openHttpSession(w.url);
    const running = pending(s.post(call(1, { ms: 3_000 })));
    await until('the first call to run upstream', () => starts() === 1);
    // The second waits for the throttle slot; the agent gives up and closes its stream.
    const abort = new AbortController();
    const waiting = await fetch(w.url, {
      method: 'POST',
      headers: { ...s.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: call(2, { ms: 10 }),
      signal: abort.signal,
    });
    expect(waiting.status).toBe(200);
    expect((await s.post(call(3, {}, 'quick'))).status).toBe(429);
    abort.abort();
    // Its place is free again at once (not when the throttle wait would have ended).
    let again: HttpAnswer | undefined;
    for (let i = 0; i < 100; i++) {
      again = await s.post(call(`q${i}`, {}, 'quick'));
      if (again.status === 200) break;
      await sleep(20);
    }
    expect(again?.status).toBe(200);
    // ... while the first call still runs: only the abandoned call's place was freed.
    expect(readFileSync(callLog, 'utf8')).not.toContain('"end"');
    expect(again?.messages.at(-1)).toMatchObject({ result: { content: [{ type: 'text', text: 'quick' }] } });
    expect(starts()).toBe(1);
    await running;
  });
});

describe('listen.http.maxRequestsInFlightPerSession in the config', () => {
  it('is a bounded integer: 0 is a start-up error naming the key', () => {
    const configFile = writeTempConfig({ dangerouslyAllowAnonymous: true, listen: { stdio: false, http: { port: 0, maxRequestsInFlightPerSession: 0 } }, upstreams: { deaf: { command: process.execPath, args: [SERVER] } } });
    const r = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('listen.http.maxRequestsInFlightPerSession');
  });
});
