import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecords } from '../../src/audit/read-records.js';
import type { AuditRecord } from '../../src/audit/record-codec.js';
import { matchShape } from '../helpers/audit-field-spec.js';
import { createTestIdp, type TestIdp } from '../helpers/enforcement-identity.js';
import { mcpPost, openHttpSession, type HttpAnswer } from '../helpers/hostile-http.js';
import { REPO_ROOT, WARDEN_MAIN } from '../helpers/paths.js';
import { spawnWardenHttp, tempDir, writeTempConfig, type WardenHttpProcess } from '../helpers/warden-process.js';
import { until as untilProbe } from '../helpers/ops-warden.js';

/**
 * listen.http.maxRequestBytesInFlightPerPrincipal against a real warden (HTTP, bearer tokens) in
 * front of cancel-deaf-server.mjs (`slow` runs for `ms`, `quick` answers at once), with a policy
 * that approves or blocks by the `verdict` argument. The budget equals maxBodyBytes: one request
 * of the full size holds it all, so any other request of the principal is refused while it is
 * charged, and a request of the full size fits only once every byte was given back. A leak in
 * the accounting would refuse the principal's every later request: each way a request can end is
 * followed by a full-size request that must be admitted.
 */
const SERVER = join(REPO_ROOT, 'test/fixtures/proxy/cancel-deaf-server.mjs');
const POLICY = join(REPO_ROOT, 'test/fixtures/proxy/verdict-by-argument.yaml');
const BUDGET = 256 * 1024;
const BYTES_REASON = 'too_many_request_bytes_in_flight';

let w: WardenHttpProcess;
let idp: TestIdp;
let callLog: string;
let auditFile: string;

beforeAll(async () => {
  const dir = tempDir('warden-inflight-bytes-');
  idp = await createTestIdp(dir);
  callLog = join(dir, 'calls.jsonl');
  auditFile = join(dir, 'audit.jsonl');
  w = await spawnWardenHttp({
    identity: idp.section(),
    listen: { stdio: false, http: { port: 0, maxBodyBytes: BUDGET, maxRequestBytesInFlightPerPrincipal: BUDGET, maxSessionsPerPrincipal: 2, maxSessionsPerClient: 2 } },
    upstreams: { deaf: { command: process.execPath, args: [SERVER], env: { CALL_LOG: callLog } } },
    policy: { files: [POLICY], watch: false, decisionBudgetMs: 10_000 },
    pins: { onNew: 'allow' },
    approvals: { timeoutMs: 60_000 },
    control: { port: 0, adminTokenFile: join(dir, '.warden', 'admin-token') },
    audit: { file: auditFile },
  });
}, 30_000);
afterAll(async () => {
  await w?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const until = (what: string, check: () => boolean): Promise<void> => untilProbe(check, 10_000, what);

const audit = (): AuditRecord[] => (existsSync(auditFile) ? parseRecords(readFileSync(auditFile, 'utf8')) : []);
type UpstreamEvent = { event: 'start' | 'end' | 'cancel'; id: number };
const upstreamLog = (log = callLog): UpstreamEvent[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as UpstreamEvent) : []);
const starts = (log = callLog): UpstreamEvent[] => upstreamLog(log).filter((e) => e.event === 'start');

/**
 * Waits for `count` more calls to start upstream than before `send` ran (the upstream sees
 * warden's ids, not the agent's; the tests of this file run one after the other). Returns a check
 * for whether they all ended.
 */
async function startedUpstream<T>(send: () => T, count = 1, log = callLog): Promise<{ sent: T; ended: () => boolean }> {
  const before = starts(log).length;
  const sent = send();
  await until(`${count} call(s) to run upstream`, () => starts(log).length >= before + count);
  const ids = starts(log).slice(before).map((e) => e.id);
  return { sent, ended: () => ids.every((id) => upstreamLog(log).some((e) => e.event === 'end' && e.id === id)) };
}

type Session = Awaited<ReturnType<typeof openHttpSession>>;

/** An HTTP session of `user` (each test its own user: budgets are per principal). */
async function sessionOf(user: string, url = w.url): Promise<Session> {
  return openHttpSession(url, { authorization: `Bearer ${await idp.mint(user, 'agent')}` });
}

/** A tools/call body of exactly `bytes` bytes (ASCII), padded in an argument nobody reads. */
function sized(id: string, name: string, args: Record<string, unknown>, bytes: number): string {
  const bare = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { ...args, pad: '' } } });
  if (bare.length > bytes) throw new Error(`a ${bytes}-byte body cannot hold ${bare}`);
  return bare.replace('"pad":""', `"pad":"${'x'.repeat(bytes - bare.length)}"`);
}

/** A POST whose answer is not awaited now (and may be abandoned with `abort`). */
function held(s: Session, body: string, url = w.url): { abort: () => void; answer: Promise<Response | undefined> } {
  const aborter = new AbortController();
  const answer = fetch(url, {
    method: 'POST',
    headers: { ...s.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body,
    signal: aborter.signal,
  }).catch(() => undefined);
  return { abort: () => aborter.abort(), answer };
}

const cancel = (s: Session, requestId: string): Promise<HttpAnswer> =>
  s.post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'stop' } }));

let probes = 0;

/** The principal's budget is taken: even a tiny request is refused for its bytes. */
async function expectCharged(s: Session): Promise<void> {
  const probe = await s.post(JSON.stringify({ jsonrpc: '2.0', id: `probe${++probes}`, method: 'tools/list', params: {} }));
  expect(probe.status).toBe(429);
  expect(probe.messages[0]).toMatchObject({ error: { code: -32000, data: { reason: BYTES_REASON, limit: BUDGET } } });
}

/** A request of the whole budget's size is admitted and answered (retried while a release is still on its way). */
async function expectFullBudgetFree(s: Session): Promise<void> {
  let answer: HttpAnswer | undefined;
  for (let i = 0; i < 100; i++) {
    answer = await s.post(sized(`full${++probes}`, 'quick', {}, BUDGET));
    if (answer.status !== 429) break;
    await sleep(30);
  }
  expect(answer?.status).toBe(200);
  expect(answer?.messages.at(-1)).toMatchObject({ result: { content: [{ type: 'text', text: 'quick' }] } });
}

describe('one principal filling listen.http.maxRequestBytesInFlightPerPrincipal with large calls that hang', () => {
  it('is refused with 429 and -32000 naming the key once its requests in flight, over all its sessions, would pass the budget; another principal is still served', async () => {
    const [a, b] = [await sessionOf('mallory'), await sessionOf('mallory')];
    const quarter = BUDGET / 4;
    // Four calls of a quarter of the budget each, on two sessions, hang upstream (60 s).
    const { sent: hanging } = await startedUpstream(() => ['m1', 'm2', 'm3', 'm4'].map((id, i) => held(i % 2 === 0 ? a : b, sized(id, 'slow', { ms: 60_000 }, quarter))), 4);
    const startsBefore = starts().length;
    const over = await a.post(sized('m5', 'slow', { ms: 10 }, quarter));
    expect(over.status).toBe(429);
    expect(over.messages).toEqual([
      {
        jsonrpc: '2.0',
        id: 'm5',
        error: {
          code: -32000,
          message: `too many request bytes in flight for this principal (${BUDGET} held, this request ${quarter}, limit ${BUDGET}: listen.http.maxRequestBytesInFlightPerPrincipal); wait for an answer before sending more`,
          data: { reason: BYTES_REASON, limit: BUDGET },
        },
      },
    ]);
    // On the other session too: the budget is the principal's, not the session's.
    await expectCharged(b);
    await sleep(200);
    expect(starts().length).toBe(startsBefore);
    const refused = audit().filter((r) => r.type === 'request.refused' && r.sessionId === a.sessionId);
    expect(refused[0]).toMatchObject({ method: 'tools/call', reason: BYTES_REASON, open: BUDGET, bytes: quarter, limit: BUDGET, principal: { user: 'mallory' } });
    expect(matchShape(refused[0]!)).toMatchObject({ ok: true });
    // Another principal has its own budget, whole.
    await expectFullBudgetFree(await sessionOf('bob'));
    for (const h of hanging) h.abort();
  });
});

describe('every way a request ends gives its bytes back (else every later request of the principal is refused)', () => {
  it('an answered call', async () => {
    const s = await sessionOf('answered');
    const { sent: call } = await startedUpstream(() => s.post(sized('a1', 'slow', { ms: 1_000 }, BUDGET)));
    await expectCharged(s);
    expect((await call).messages.at(-1)).toMatchObject({ id: 'a1', result: expect.any(Object) });
    await expectFullBudgetFree(s);
  });

  it('a call the policy refuses', async () => {
    const s = await sessionOf('blocked');
    const before = starts().length;
    const refused = await s.post(sized('b1', 'slow', { verdict: 'block' }, BUDGET));
    expect(refused.messages.at(-1)).toMatchObject({ id: 'b1', result: { isError: true, _meta: { 'dev.mcp-warden/decision': { action: 'block' } } } });
    expect(starts().length).toBe(before);
    await expectFullBudgetFree(s);
  });

  it('a call cancelled while it waits for approval', async () => {
    const s = await sessionOf('cancelled-waiting');
    const call = held(s, sized('c1', 'slow', { verdict: 'approve' }, BUDGET));
    await until('the approval request', () => audit().some((r) => r.type === 'call.approval_requested' && r.sessionId === s.sessionId));
    await expectCharged(s);
    expect((await cancel(s, 'c1')).status).toBe(202);
    await expectFullBudgetFree(s);
    call.abort();
  });

  it('a forwarded call cancelled while the upstream runs on: charged until its late answer', async () => {
    const s = await sessionOf('cancelled-forwarded');
    const { sent: call, ended } = await startedUpstream(() => held(s, sized('d1', 'slow', { ms: 1_500, onCancel: 'ignore' }, BUDGET)));
    expect((await cancel(s, 'd1')).status).toBe(202);
    // The upstream still runs it, and warden still holds its request: the bytes stay charged.
    await expectCharged(s);
    await until('the late answer', ended);
    await expectFullBudgetFree(s);
    call.abort();
  });

  it('an agent that disconnects while its call waits for approval', async () => {
    const s = await sessionOf('gone-waiting');
    const call = held(s, sized('e1', 'slow', { verdict: 'approve' }, BUDGET));
    await until('the approval request', () => audit().some((r) => r.type === 'call.approval_requested' && r.sessionId === s.sessionId));
    await expectCharged(s);
    call.abort();
    await expectFullBudgetFree(s);
    expect(audit().some((r) => r.type === 'call.approval_withdrawn' && r.sessionId === s.sessionId)).toBe(true);
  });

  it('an agent that disconnects from a forwarded call: charged until the upstream answers', async () => {
    const s = await sessionOf('gone-forwarded');
    const { sent: call, ended } = await startedUpstream(() => held(s, sized('f1', 'slow', { ms: 1_500 }, BUDGET)));
    call.abort();
    await sleep(100);
    await expectCharged(s);
    await until('the upstream answer', ended);
    await expectFullBudgetFree(s);
  });

  it('a session the agent ends with DELETE while its call hangs', async () => {
    const s = await sessionOf('deleted');
    const { sent: call } = await startedUpstream(() => held(s, sized('g1', 'slow', { ms: 60_000 }, BUDGET)));
    await expectCharged(s);
    expect((await mcpPost(w.url, '', s.headers, { method: 'DELETE' })).status).toBe(200);
    await expectFullBudgetFree(await sessionOf('deleted'));
    call.abort();
  });

  it('a session closed to make room for a new one of its principal (evicted) while its abandoned call hangs upstream', async () => {
    const first = await sessionOf('evicted');
    const { sent: call } = await startedUpstream(() => held(first, sized('h1', 'slow', { ms: 60_000 }, BUDGET)));
    // The agent goes away without DELETE: the session is unattended, its forwarded call still charged.
    call.abort();
    await sleep(50);
    const second = await sessionOf('evicted');
    await expectCharged(second);
    // At maxSessionsPerPrincipal (2): the least recently seen unattended session, the first, is closed.
    const third = await sessionOf('evicted');
    await until('the first session to be closed', () => audit().some((r) => r.type === 'session.closed' && r.sessionId === first.sessionId && r.reason === 'evicted_for_new_session'));
    await expectFullBudgetFree(third);
  });

  it('a request refused as a duplicate of an id still in flight', async () => {
    const s = await sessionOf('duplicate');
    const { sent: call, ended } = await startedUpstream(() => held(s, sized('i1', 'slow', { ms: 1_000 }, BUDGET / 2)));
    const dup = await s.post(sized('i1', 'quick', {}, BUDGET / 2));
    expect(dup.messages.at(-1)).toMatchObject({ id: 'i1', error: { code: -32600 } });
    // The first one's answer ends it (where the transport delivers it is not this test's concern).
    await until('the first call to end upstream', ended);
    call.abort();
    await expectFullBudgetFree(s);
  });

  it('a request the MCP transport refuses before the session sees it', async () => {
    const s = await sessionOf('transport-refused');
    const refused = await s.post(sized('j1', 'quick', {}, BUDGET), { 'mcp-protocol-version': '1999-01-01' });
    expect(refused.status).toBe(400);
    await expectFullBudgetFree(s);
  });

  it('notifications and responses are never left charged', async () => {
    const s = await sessionOf('notifying');
    const pad = 'x'.repeat(BUDGET - 200);
    for (let i = 0; i < 3; i++) {
      expect((await s.post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: { pad } }))).status).toBe(202);
      expect((await s.post(JSON.stringify({ jsonrpc: '2.0', id: `nobody${i}`, result: { pad } }))).status).toBe(202);
    }
    await expectFullBudgetFree(s);
  });
});

describe('listen.http.maxRequestBytesInFlightPerPrincipal in the config', () => {
  it.each([
    ['0', 0],
    ['below maxBodyBytes', BUDGET - 1],
  ])('%s is a start-up error naming the file and the key', (_label, value) => {
    const configFile = writeTempConfig({ dangerouslyAllowAnonymous: true, listen: { stdio: false, http: { port: 0, maxBodyBytes: BUDGET, maxRequestBytesInFlightPerPrincipal: value } }, upstreams: { deaf: { command: process.execPath, args: [SERVER] } } });
    const r = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${configFile}: listen.http.maxRequestBytesInFlightPerPrincipal`);
  });
});

describe('many principals, each within its share, filling listen.http.maxRequestBytesInFlight together', () => {
  let all: WardenHttpProcess;
  let log: string;
  let allAudit: string;
  beforeAll(async () => {
    const dir = tempDir('warden-inflight-bytes-all-');
    log = join(dir, 'calls.jsonl');
    allAudit = join(dir, 'audit.jsonl');
    // Warden's whole budget is one principal's share: what alice holds, nobody else can add to.
    all = await spawnWardenHttp({
      identity: idp.section(),
      listen: { stdio: false, http: { port: 0, maxBodyBytes: BUDGET, maxRequestBytesInFlightPerPrincipal: BUDGET, maxRequestBytesInFlight: BUDGET } },
      upstreams: { deaf: { command: process.execPath, args: [SERVER], env: { CALL_LOG: log } } },
      policy: { files: [POLICY], watch: false, decisionBudgetMs: 10_000 },
      pins: { onNew: 'allow' },
      audit: { file: allAudit },
    });
  }, 30_000);
  afterAll(async () => {
    await all?.stop();
  });

  it('the next principal is refused with 503 and -32000 naming the key, nothing forwarded, and admitted once the bytes are back', async () => {
    const alice = await sessionOf('alice-all', all.url);
    const bob = await sessionOf('bob-all', all.url);
    const half = BUDGET / 2;
    // Slow enough for the refusal below to land while they run; they end on their own.
    const { sent: hanging, ended } = await startedUpstream(() => ['a1', 'a2'].map((id) => held(alice, sized(id, 'slow', { ms: 5_000 }, half), all.url)), 2, log);
    const startsBefore = starts(log).length;
    const refused = await bob.post(sized('b1', 'quick', {}, 1_000));
    expect(refused.status).toBe(503);
    expect(refused.messages[0]).toMatchObject({
      id: 'b1',
      error: {
        code: -32000,
        message: `warden holds too many request bytes in flight for all callers together (${BUDGET} held, this request 1000, limit ${BUDGET}: listen.http.maxRequestBytesInFlight); try again later`,
        data: { reason: 'warden_request_bytes_in_flight', limit: BUDGET },
      },
    });
    await sleep(200);
    expect(starts(log).length).toBe(startsBefore);
    const records = parseRecords(readFileSync(allAudit, 'utf8')).filter((r) => r.type === 'request.refused' && r.sessionId === bob.sessionId);
    expect(records[0]).toMatchObject({ reason: 'warden_request_bytes_in_flight', open: BUDGET, bytes: 1_000, limit: BUDGET, principal: { user: 'bob-all' } });
    expect(matchShape(records[0]!)).toMatchObject({ ok: true });
    // Alice's agent goes away; her calls still run upstream (this server ignores cancels), so
    // their bytes stay charged until they end there, and then come back.
    for (const h of hanging) h.abort();
    await until('alice\'s calls to end upstream', ended);
    let answer: HttpAnswer | undefined;
    for (let i = 0; i < 100; i++) {
      answer = await bob.post(sized(`b${i + 2}`, 'quick', {}, 1_000));
      if (answer.status !== 503) break;
      await sleep(50);
    }
    expect(answer?.status).toBe(200);
  });
});
