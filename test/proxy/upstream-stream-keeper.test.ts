import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/logging/logger.js';
import { StreamKeeper, type StreamNews } from '../../src/proxy/upstream-stream-keeper.js';

/**
 * The keeper's schedule under frozen time. The server is a list of GET statuses; `sdkGet` is a GET
 * as the SDK makes it (through the keeper's fetch), and the keeper's own tries go the same way.
 * Real SDK transports and servers: test/e2e/http-notify/standing-stream.test.ts.
 */
const GIVE_UP = new Error('Maximum reconnection attempts (2) exceeded.');

function harness(statuses: number[], random = 0) {
  const news: StreamNews[] = [];
  const keeper = new StreamKeeper('up', silentLogger(), (n) => void news.push(n), { firstDelayMs: 500, maxDelayMs: 4_000, random: () => random, now: () => Date.now() });
  const shared = new AbortController();
  const at: number[] = [];
  const opened: Response[] = [];
  const base: FetchLike = async () => {
    at.push(Date.now());
    const status = statuses.shift() ?? 200;
    return new Response(status === 200 ? new ReadableStream() : null, { status });
  };
  const fetch = keeper.watch(base);
  const sdkGet = (): Promise<Response> => fetch('http://127.0.0.1/mcp', { method: 'GET', headers: new Headers(), signal: shared.signal });
  keeper.attach({
    resumeStream: async () => {
      const r = await sdkGet();
      if (r.ok) opened.push(r);
      if (!r.ok && r.status !== 405) throw new StreamableHTTPError(r.status, 'Failed to open SSE stream');
    },
  });
  /** Gaps between the keeper's tries (ms), from the first GET after `from`. */
  const gaps = (from: number) => at.slice(from).map((t, i, all) => (i === 0 ? 0 : t - all[i - 1]!)).slice(1);
  /** Ends every stream the keeper opened (as a server or network would). */
  const breakOpened = () => Promise.all(opened.splice(0).map((r) => r.body!.cancel()));
  return { keeper, news, at, sdkGet, shared, gaps, breakOpened };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('StreamKeeper', () => {
  it('takes over a refused first opening once the SDK reports it, with doubling delays capped at maxDelayMs, until a stream opens', async () => {
    const h = harness([503, 503, 500, 503, 503, 503]);
    await h.sdkGet();
    expect(h.news).toEqual([]); // nothing until the SDK's report (the connection checks for a lost session first)
    h.keeper.noticeError(new StreamableHTTPError(503, 'Failed to open SSE stream'));
    expect(h.news).toEqual([{ kind: 'lost', reason: expect.stringMatching(/HTTP 503/) }]);
    await vi.advanceTimersByTimeAsync(60_000);
    // random 0: each delay is half its base; bases 500, 1000, 2000, 4000, 4000 (capped), 4000.
    expect(h.gaps(0)).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000]);
    expect(h.news[1]).toEqual({ kind: 'restored', attempts: 6, downMs: 7_750 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a redirected first opening that then succeeds is not taken for a failure: a later unrelated SDK error changes nothing', async () => {
    // The SDK follows same-origin redirects itself, so the keeper sees the 307 and then the 200.
    const h = harness([307, 200]);
    await h.sdkGet();
    await h.sdkGet();
    h.keeper.noticeError(new StreamableHTTPError(500, 'Error POSTing to endpoint'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.news).toEqual([]);
    expect(h.at).toHaveLength(2);
  });

  it('draws each delay from [base / 2, base): jitter, never longer than the base', async () => {
    const h = harness([503, 503, 503, 503], 0.999);
    await h.sdkGet();
    h.keeper.noticeError(new StreamableHTTPError(503, 'Failed to open SSE stream'));
    await vi.advanceTimersByTimeAsync(60_000);
    const gaps = h.gaps(0);
    expect(gaps).toHaveLength(4);
    [500, 1_000, 2_000, 4_000].forEach((base, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(base * 0.99);
      expect(gaps[i]).toBeLessThan(base);
    });
  });

  it('takes over when the SDK gives up re-opening a stream that broke, naming the last status', async () => {
    const h = harness([200, 503, 500]);
    const open = await h.sdkGet();
    await open.body!.cancel(); // the stream broke; the SDK tries twice
    await h.sdkGet();
    await h.sdkGet();
    h.keeper.noticeError(GIVE_UP);
    expect(h.news).toEqual([{ kind: 'lost', reason: expect.stringMatching(/HTTP 500/) }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.news[1]).toMatchObject({ kind: 'restored', attempts: 1 });
  });

  it('stops at once when the transport closes (its abort signal): no timer left, no try after', async () => {
    const h = harness(Array<number>(20).fill(503));
    await h.sdkGet();
    h.keeper.noticeError(new StreamableHTTPError(503, 'Failed to open SSE stream'));
    await vi.advanceTimersByTimeAsync(1_000);
    const tries = h.at.length;
    h.shared.abort();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.at).toHaveLength(tries);
  });

  it('stops retrying when a try is answered 405 (the server offers no stream): no loop', async () => {
    const h = harness([503, 405]);
    await h.sdkGet();
    h.keeper.noticeError(new StreamableHTTPError(503, 'Failed to open SSE stream'));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.at).toHaveLength(2);
    expect(h.news).toEqual([{ kind: 'lost', reason: expect.any(String) }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never re-opens for a server that offers no stream (405), even when the SDK later reports a give-up', async () => {
    const h = harness([405]);
    await h.sdkGet();
    h.keeper.noticeError(GIVE_UP);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.news).toEqual([]);
    expect(h.at).toHaveLength(1);
  });

  it('leaves a 404 first opening to the lost-session recovery (which starts a new session and stream)', async () => {
    const h = harness([404]);
    await h.sdkGet();
    h.keeper.noticeError(new StreamableHTTPError(404, 'Failed to open SSE stream'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.news).toEqual([]);
    expect(h.at).toHaveLength(1);
  });

  it('ignores a give-up while a GET stream is still open (a resumed POST stream gave up, not the standing one)', async () => {
    const h = harness([200]);
    await h.sdkGet();
    h.keeper.noticeError(GIVE_UP);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.news).toEqual([]);
    expect(h.at).toHaveLength(1);
  });

  it('keeps the longer delay for a stream lost again right after it was re-opened (no lost/restored flood)', async () => {
    const h = harness([503, 200, 503, 503, 200, 503, 503, 200]);
    await h.sdkGet();
    h.keeper.noticeError(new StreamableHTTPError(503, 'Failed to open SSE stream'));
    await vi.advanceTimersByTimeAsync(250);
    const kinds = () => h.news.map((n) => n.kind);
    const breakAndGiveUp = async (): Promise<void> => {
      await h.breakOpened();
      await h.sdkGet();
      await h.sdkGet();
      h.keeper.noticeError(GIVE_UP);
    };
    expect(kinds()).toEqual(['lost', 'restored']);
    await breakAndGiveUp(); // at once: the base delay went on doubling (1000, so 500)
    await vi.advanceTimersByTimeAsync(250);
    expect(kinds()).toEqual(['lost', 'restored', 'lost']);
    await vi.advanceTimersByTimeAsync(250);
    expect(kinds()).toEqual(['lost', 'restored', 'lost', 'restored']);
    await vi.advanceTimersByTimeAsync(4_000); // up for maxDelayMs: the next loss starts over (500, so 250)
    await breakAndGiveUp();
    await vi.advanceTimersByTimeAsync(250);
    expect(kinds()).toEqual(['lost', 'restored', 'lost', 'restored', 'lost', 'restored']);
  });
});
