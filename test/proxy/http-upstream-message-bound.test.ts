import { afterEach, describe, expect, it } from 'vitest';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { startBigHttpUpstream } from '../helpers/proxy-big-http-upstream.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const LIMIT = 256 * 1024;

describe('an HTTP upstream answering beyond limits.maxUpstreamMessageBytes', () => {
  for (const sse of [false, true]) {
    it(`never relays (nor holds) a ${sse ? 'SSE event' : 'JSON answer'} larger than the bound, and keeps serving`, async () => {
      const upstream = await startBigHttpUpstream(4 * LIMIT, sse);
      closers.push(upstream.close);
      const a = await rawAgent({ upstreams: { big: { url: upstream.url } }, limits: { maxUpstreamMessageBytes: LIMIT }, timeouts: { callMs: 5_000 } });
      closers.push(a.close);
      expect(await a.init()).toHaveProperty('result');
      const answer = await a.request('tools/call', { name: 'big', arguments: {} });
      expect(answer).not.toHaveProperty('result');
      expect(answer.error).toMatchObject({ code: -32000 });
      expect(await a.alive()).toBe(true);
    });
  }
});

describe('messageBoundFetch counts SSE per event', () => {
  const sseOf = (text: string, chunk: number): Response => {
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += chunk) c.enqueue(bytes.subarray(i, i + chunk));
        c.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  };
  const read = async (text: string, chunk: number, max: number): Promise<{ ok: boolean; lost: string[] }> => {
    const { messageBoundFetch } = await import('../../src/proxy/http-message-bound.js');
    const lost: string[] = [];
    const f = messageBoundFetch(async () => sseOf(text, chunk), max, (r) => void lost.push(r));
    const ok = await (await f('http://x', {})).text().then(() => true, () => false);
    return { ok, lost };
  };
  const event = (size: number, eol = '\n'): string => `event: message${eol}data: ${'y'.repeat(size)}${eol}${eol}`;

  it('lets a long stream of small events through (the bound is per event, not per stream)', async () => {
    for (const eol of ['\n', '\r\n']) {
      expect(await read(event(100, eol).repeat(200), 7, 1_000)).toEqual({ ok: true, lost: [] });
    }
  });

  it('fails one event over the bound even when it ends inside the chunk that carries it', async () => {
    for (const eol of ['\n', '\r\n']) {
      const result = await read(event(10) + event(5_000, eol) + event(10), 1 << 20, 1_000);
      expect(result.ok).toBe(false);
      expect(result.lost).toHaveLength(1);
    }
  });
});
