import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { createThrottler } from '../../src/enforce/throttler.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';

const throttleDecision = decision({ action: 'throttle', enforced: 'throttle' });

function config(overrides: Record<string, unknown>) {
  return ThrottleConfigSchema.parse(overrides);
}

describe('throttler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delays a call beyond the burst until a token refills', async () => {
    const t = createThrottler(config({ buckets: [{ key: 'user_agent', ratePerMinute: 60, burst: 2 }], maxWaitMs: 5_000 }));
    const a = await t.acquire(callRequest().req, throttleDecision);
    const b = await t.acquire(callRequest().req, throttleDecision);
    expect(a).toMatchObject({ ok: true, waitedMs: 0 });
    expect(b).toMatchObject({ ok: true, waitedMs: 0 });
    let settled = false;
    const c = t.acquire(callRequest().req, throttleDecision).then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await c).toMatchObject({ ok: true, waitedMs: 1_000 });
  });

  it('blocks a wall-clock step back from stretching a wait beyond maxWaitMs (NTP step while queued)', async () => {
    // The queue is bounded in time by maxWaitMs; measured on a wall clock that steps back an hour
    // while the call waits for its token, the wait for a slot became an hour long.
    let now = 1_700_000_000_000;
    const t = createThrottler(config({ buckets: [{ key: 'user_agent', ratePerMinute: 60, burst: 1 }], maxWaitMs: 5_000, maxConcurrentPerPrincipal: 1 }), { clock: () => now });
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true }); // holds the only slot
    let settled: unknown;
    void t.acquire(callRequest().req, throttleDecision).then((r) => (settled = r));
    now -= 3_600_000;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(settled).toEqual({ ok: false, reason: 'concurrency', retryAfterMs: 1_000 });
  });

  it('rejects with retryAfterMs when the wait would exceed maxWaitMs', async () => {
    const t = createThrottler(config({ buckets: [{ key: 'user', ratePerMinute: 6, burst: 1 }], maxWaitMs: 2_000 }));
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true });
    expect(await t.acquire(callRequest().req, throttleDecision)).toEqual({ ok: false, reason: 'rate', retryAfterMs: 10_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true, waitedMs: 0 });
  });

  it('keys tool buckets across callers but user buckets per user', async () => {
    const t = createThrottler(config({ buckets: [{ key: 'user', ratePerMinute: 1, burst: 1 }], maxWaitMs: 0 }));
    const { principal } = await import('../fixtures/enforce/call-fixtures.js');
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true });
    expect(await t.acquire(callRequest({ principal: principal('bob') }).req, throttleDecision)).toMatchObject({ ok: true });
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: false, reason: 'rate' });
    const tool = createThrottler(config({ buckets: [{ key: 'tool', ratePerMinute: 1, burst: 1 }], maxWaitMs: 0 }));
    expect(await tool.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true });
    expect(await tool.acquire(callRequest({ principal: principal('bob') }).req, throttleDecision)).toMatchObject({ ok: false, reason: 'rate' });
  });

  it('keeps per-principal concurrency under the cap and hands the slot on at release', async () => {
    const t = createThrottler(config({ buckets: [], maxConcurrentPerPrincipal: 1, maxWaitMs: 3_000 }));
    const first = await t.acquire(callRequest().req, throttleDecision);
    if (!first.ok) throw new Error('expected ok');
    let second: unknown;
    const p = t.acquire(callRequest().req, throttleDecision).then((r) => (second = r));
    await vi.advanceTimersByTimeAsync(500);
    expect(second).toBeUndefined();
    first.release();
    first.release(); // idempotent: must not free a second slot
    await p;
    expect(second).toMatchObject({ ok: true, waitedMs: 500 });
    const third = t.acquire(callRequest().req, throttleDecision);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await third).toMatchObject({ ok: false, reason: 'concurrency', retryAfterMs: 1_000 });
  });

  it('bounds the wait queue: rejects immediately when it is full', async () => {
    const t = createThrottler(config({ buckets: [], maxConcurrentPerPrincipal: 1, maxQueuedPerPrincipal: 1, maxWaitMs: 3_000 }));
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true });
    const queued = t.acquire(callRequest().req, throttleDecision);
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: false, reason: 'queue_full' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await queued).toMatchObject({ ok: false, reason: 'concurrency' });
  });

  it('cancels a waiting call cleanly when the agent cancels, and refunds its token', async () => {
    const t = createThrottler(config({ buckets: [{ key: 'user_agent', ratePerMinute: 60, burst: 1 }], maxWaitMs: 5_000 }));
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true });
    const waiting = callRequest();
    const p = t.acquire(waiting.req, throttleDecision);
    await vi.advanceTimersByTimeAsync(200);
    waiting.abort.abort();
    expect(await p).toEqual({ ok: false, reason: 'cancelled', retryAfterMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(800);
    // The refunded token means the next call does not queue behind the cancelled one.
    expect(await t.acquire(callRequest().req, throttleDecision)).toMatchObject({ ok: true, waitedMs: 0 });
  });

  it('rejects an already-cancelled call without waiting', async () => {
    const t = createThrottler(config({}));
    const c = callRequest();
    c.abort.abort();
    expect(await t.acquire(c.req, throttleDecision)).toMatchObject({ ok: false, reason: 'cancelled' });
  });

  it('rejects unknown config keys (strict schema)', () => {
    expect(ThrottleConfigSchema.safeParse({ maxWait: 1 }).success).toBe(false);
    expect(ThrottleConfigSchema.safeParse({ buckets: [{ key: 'ip', ratePerMinute: 1, burst: 1 }] }).success).toBe(false);
  });
});
