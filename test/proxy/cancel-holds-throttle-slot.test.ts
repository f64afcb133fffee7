import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRecords } from '../../src/audit/read-records.js';
import type { AuditRecord } from '../../src/audit/record-codec.js';
import { expectRefusal } from '../helpers/enforcement-assert.js';
import { mcpPost, openHttpSession } from '../helpers/hostile-http.js';
import { spawnRawWarden } from '../helpers/hostile-warden-process.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { spawnWardenHttp, tempDir } from '../helpers/warden-process.js';

const SERVER = join(REPO_ROOT, 'test/fixtures/proxy/cancel-deaf-server.mjs');
const POLICY = join(REPO_ROOT, 'test/fixtures/proxy/throttle-slow.yaml');

type Warden = Awaited<ReturnType<typeof spawnRawWarden>>;
type LogEntry = { event: 'start' | 'end' | 'cancel'; id: number; running?: number };

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The real warden over stdio in front of cancel-deaf-server.mjs, `slow` throttled with one call at
 * a time per principal (a second waits at most 200 ms, then is rejected), tokens aplenty.
 */
async function startWarden(callMs: number) {
  const callLog = join(tempDir('warden-cancel-slot-'), 'calls.jsonl');
  const w = await spawnRawWarden({
    dangerouslyAllowAnonymous: true,
    upstreams: { deaf: { command: process.execPath, args: [SERVER], env: { CALL_LOG: callLog } } },
    logging: { level: 'warn' },
    policy: { files: [POLICY], watch: false, decisionBudgetMs: 10_000 },
    pins: { onNew: 'allow', watch: false },
    throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 60_000, burst: 1_000 }], maxConcurrentPerPrincipal: 1, maxQueuedPerPrincipal: 4, maxWaitMs: 200 },
    timeouts: { callMs },
  });
  closers.push(w.stop);
  expect(await w.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'agent', version: '1' } })).toHaveProperty('result');
  fire(w, { jsonrpc: '2.0', method: 'notifications/initialized' });
  const upstreamLog = (): LogEntry[] => (existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry) : []);
  const audit = (): AuditRecord[] => {
    const file = join(dirname(w.configFile), 'warden-audit.jsonl');
    return existsSync(file) ? parseRecords(readFileSync(file, 'utf8')) : [];
  };
  return { w, upstreamLog, audit };
}

function fire(w: Warden, message: Record<string, unknown>): void {
  w.send(JSON.stringify(message));
}

const slowCall = (id: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: args } });

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Starts `slow` as call `id`, waits until the upstream runs it, then cancels it as an agent does. */
async function callThenCancel(t: Awaited<ReturnType<typeof startWarden>>, id: string, args: Record<string, unknown>): Promise<void> {
  const started = t.upstreamLog().filter((e) => e.event === 'start').length;
  fire(t.w, slowCall(id, args));
  await until('the upstream to start the call', () => t.upstreamLog().filter((e) => e.event === 'start').length > started);
  fire(t.w, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'user pressed stop' } });
  await until('the upstream to see the cancel', () => t.upstreamLog().some((e) => e.event === 'cancel'));
}

const throttleOf = (audit: AuditRecord[], callId: string) => audit.find((r) => r.type === 'call.throttle' && r.callId === callId);

describe('cancel-and-call-again against an upstream that ignores cancellation (maxConcurrentPerPrincipal 1)', () => {
  it('keeps the cancelled call\'s slot until its late answer arrives: the next call is rejected meanwhile, never run beside it', async () => {
    const t = await startWarden(30_000);
    await callThenCancel(t, 'c1', { ms: 2_500, onCancel: 'ignore', label: 'first' });
    // The upstream still runs c1: a second call must not run beside it.
    const second = await t.w.exchange(JSON.stringify(slowCall('c2', { ms: 10 })), 'c2');
    const decision = expectRefusal(second.result, 'throttle_rejected');
    expect(throttleOf(t.audit(), decision.callId)).toMatchObject({ outcome: 'rejected', reason: 'concurrency' });
    expect(t.upstreamLog().filter((e) => e.event === 'start')).toHaveLength(1);
    // c1 ends upstream; its late answer is dropped (the agent cancelled it) and frees the slot.
    await until('the upstream to finish the cancelled call', () => t.upstreamLog().some((e) => e.event === 'end'), 10_000);
    let third: Record<string, unknown> | undefined;
    for (let i = 0; i < 50; i++) {
      third = await t.w.exchange(JSON.stringify(slowCall(`c3-${i}`, { ms: 10, label: 'third' })), `c3-${i}`);
      if (!(third.result as { isError?: boolean }).isError) break;
      await sleep(20);
    }
    expect(third!.result).toMatchObject({ content: [{ type: 'text', text: 'slow third done' }] });
    // Never more calls at once upstream than the limit, and the agent never saw c1's answer.
    expect(t.upstreamLog().filter((e) => e.event === 'start').every((e) => e.running === 1)).toBe(true);
    expect(t.w.answersFor('c1')).toEqual([]);
    expect(t.w.lines.some((m) => JSON.stringify(m).includes('slow first done'))).toBe(false);
    // The audit says what happened to c1 as before: forwarded, then cancelled.
    const results = t.audit().filter((r) => r.type === 'call.result');
    expect(results[0]).toMatchObject({ status: 'cancelled' });
    expect(await t.w.alive()).toBe(true);
  });
});

describe('cancel-and-call-again against an upstream that honours cancellation', () => {
  it('frees the slot at the cancelled call\'s timeout (callMs from forwarding) when the upstream stops and never answers', async () => {
    const t = await startWarden(1_500);
    const forwardedAt = Date.now();
    await callThenCancel(t, 'c1', { ms: 60_000, onCancel: 'stop' });
    const second = await t.w.exchange(JSON.stringify(slowCall('c2', { ms: 10 })), 'c2');
    expectRefusal(second.result, 'throttle_rejected');
    let admittedAt = 0;
    for (let i = 0; i < 200; i++) {
      const answer = await t.w.exchange(JSON.stringify(slowCall(`c3-${i}`, { ms: 10, label: 'third' })), `c3-${i}`);
      if (!(answer.result as { isError?: boolean }).isError) {
        admittedAt = Date.now();
        break;
      }
      await sleep(20);
    }
    expect(admittedAt).toBeGreaterThan(0);
    // Not before c1's own timeout ran out (with slack for the process's own clock start).
    expect(admittedAt - forwardedAt).toBeGreaterThanOrEqual(1_300);
    expect(t.w.answersFor('c1')).toEqual([]);
  });

  it('frees the slot as soon as a late answer to the cancelled call arrives', async () => {
    const t = await startWarden(30_000);
    // "ignore" with a short run: the upstream answers 700 ms after the start, well before callMs.
    await callThenCancel(t, 'c1', { ms: 700, onCancel: 'ignore' });
    expectRefusal((await t.w.exchange(JSON.stringify(slowCall('c2', { ms: 10 })), 'c2')).result, 'throttle_rejected');
    await until('the late answer', () => t.upstreamLog().some((e) => e.event === 'end'));
    await sleep(100);
    const third = await t.w.exchange(JSON.stringify(slowCall('c3', { ms: 10, label: 'third' })), 'c3');
    expect(third.result).toMatchObject({ content: [{ type: 'text', text: 'slow third done' }] });
  });
});

describe('a cancelled call whose upstream crashes', () => {
  it('frees the slot when the upstream process ends (no slot held until the timeout, none leaked)', async () => {
    const t = await startWarden(60_000);
    // The upstream exits on the cancel, without answering: warden restarts it with backoff.
    await callThenCancel(t, 'c1', { ms: 60_000, onCancel: 'exit' });
    // The restarted upstream runs the next call well before c1's 60 s timeout.
    let ran = false;
    for (let i = 0; i < 300 && !ran; i++) {
      const a = await t.w.exchange(JSON.stringify(slowCall(`c3-${i}`, { ms: 10, label: 'after crash' })), `c3-${i}`);
      ran = JSON.stringify(a.result ?? {}).includes('slow after crash done');
      if (!ran) await sleep(50);
    }
    expect(ran).toBe(true);
    expect(t.w.answersFor('c1')).toEqual([]);
  });
});

describe('a cancelled call whose HTTP session ends', () => {
  it('frees the slot when the session ends (DELETE): another session of the same principal may call at once', async () => {
    const callLog = join(tempDir('warden-cancel-slot-'), 'calls.jsonl');
    // Anonymous: every session is the same principal and shares its throttle slot.
    const w = await spawnWardenHttp({
      dangerouslyAllowAnonymous: true,
      upstreams: { deaf: { command: process.execPath, args: [SERVER], env: { CALL_LOG: callLog } } },
      policy: { files: [POLICY], watch: false, decisionBudgetMs: 10_000 },
      pins: { onNew: 'allow', watch: false },
      throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 60_000, burst: 1_000 }], maxConcurrentPerPrincipal: 1, maxWaitMs: 200 },
      timeouts: { callMs: 60_000 },
    });
    closers.push(w.stop);
    const log = (): LogEntry[] => (existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry) : []);
    const a = await openHttpSession(w.url);
    void a.post(JSON.stringify(slowCall('c1', { ms: 60_000, onCancel: 'ignore' }))).catch(() => undefined);
    await until('the upstream to start the call', () => log().some((e) => e.event === 'start'));
    expect((await a.post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c1', reason: 'stop' } }))).status).toBe(202);
    await until('the upstream to see the cancel', () => log().some((e) => e.event === 'cancel'));
    const b = await openHttpSession(w.url);
    // Session a's upstream still runs c1: the principal's one slot is taken.
    expectRefusal((await b.post(JSON.stringify(slowCall('b1', { ms: 10 })))).messages.at(-1)!.result, 'throttle_rejected');
    // Session a ends: its upstream process is stopped, and with it c1.
    expect((await mcpPost(w.url, '', a.headers, { method: 'DELETE' })).status).toBe(200);
    let ran = false;
    for (let i = 0; i < 100 && !ran; i++) {
      const answer = await b.post(JSON.stringify(slowCall(`b2-${i}`, { ms: 10, label: 'after delete' })));
      ran = JSON.stringify(answer.messages).includes('slow after delete done');
      if (!ran) await sleep(50);
    }
    expect(ran).toBe(true);
  });
});
