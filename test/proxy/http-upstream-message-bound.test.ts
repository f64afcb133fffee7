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

  it('counts what the SDK holds per line: an event of many short data lines cannot hold ~9 times the bound', async () => {
    // 20,000 lines of 7 bytes are 140 KB, but the SDK's SSE parser holds ~64 bytes per line while
    // it joins them (data + "\n" + line): ~1.3 MB, over the 1 MB bound.
    const many = `event: message\n${'data:x\n'.repeat(20_000)}\n`;
    const result = await read(many, 1 << 16, 1 << 20);
    expect(result.ok).toBe(false);
    expect(result.lost).toHaveLength(1);
    // One long line as honest servers send it, of the same bound's size, still passes.
    expect(await read(event(1_000_000), 1 << 16, 1 << 20)).toEqual({ ok: true, lost: [] });
  });

  it('fails one event over the bound even when it ends inside the chunk that carries it', async () => {
    for (const eol of ['\n', '\r\n']) {
      const result = await read(event(10) + event(5_000, eol) + event(10), 1 << 20, 1_000);
      expect(result.ok).toBe(false);
      expect(result.lost).toHaveLength(1);
    }
  });
});

describe('an HTTP upstream dripping its answer a byte per chunk', () => {
  /** A body that delivers `text` one byte per chunk, and stays open afterwards unless `end`. */
  const dripping = (text: string, contentType: string, end: boolean): Response => {
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i++) c.enqueue(bytes.slice(i, i + 1));
        if (end) c.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': contentType } });
  };
  const bounded = async (response: Response): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
    const { messageBoundFetch } = await import('../../src/proxy/http-message-bound.js');
    const f = messageBoundFetch(async () => response, 1 << 20, () => undefined);
    return (await f('http://x', {})).body!.getReader();
  };

  it('cannot make the SDK hold one chunk object per byte of a JSON answer (each costs ~190 bytes)', async () => {
    const json = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { pad: 'p'.repeat(70_000) } });
    const reader = await bounded(dripping(json, 'application/json', true));
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    // Passed on in blocks of ~64 KiB, not per byte.
    expect(chunks.length).toBeLessThanOrEqual(3);
    expect(Buffer.concat(chunks).toString()).toBe(json);
  });

  it('still passes each SSE line on as soon as it ends (an event is not held back)', async () => {
    const event = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'x'.repeat(1_000) } })}\n\n`;
    const reader = await bounded(dripping(event, 'text/event-stream', false)); // the stream stays open
    let got = '';
    const decoder = new TextDecoder();
    let reads = 0;
    while (!got.endsWith('\n\n')) {
      got += decoder.decode((await reader.read()).value);
      reads++;
    }
    expect(got).toBe(event);
    // One read per line (the blank line may come with the one before it), not one per byte.
    expect(reads).toBeLessThanOrEqual(3);
    await reader.cancel();
  });
});
