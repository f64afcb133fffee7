import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/logger.js';
import type { RpcMessage } from '../../src/proxy/json-rpc.js';
import { StdioDownstream } from '../../src/proxy/stdio-downstream.js';
import { collectJsonLines } from '../helpers/in-process-warden.js';

/**
 * Line framing of the agent's stdin: a line whole in one chunk takes a fast path, a line split over
 * chunks the buffered one; both must frame, bound and decode the same way.
 */
function channel(maxMessageBytes: number) {
  const input = new PassThrough();
  const output = new PassThrough();
  const answers = collectJsonLines<{ id: unknown; error?: { code: number } }>(output);
  const downstream = new StdioDownstream(input, output, maxMessageBytes, 1 << 20, silentLogger());
  const received: RpcMessage[] = [];
  downstream.onmessage = (m) => void received.push(m);
  downstream.start();
  const feed = async (...chunks: Array<string | Buffer>) => {
    for (const c of chunks) input.write(c);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };
  return { feed, received, answers };
}

/** A ping whose line is exactly `bytes` bytes long, padded with a 2-byte UTF-8 character. */
function pingOfBytes(id: number, bytes: number): string {
  const bare = Buffer.byteLength(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping', params: { pad: '' } }));
  const pad = 'é'.repeat(Math.floor((bytes - bare) / 2)) + 'x'.repeat((bytes - bare) % 2);
  const line = JSON.stringify({ jsonrpc: '2.0', id, method: 'ping', params: { pad } });
  expect(Buffer.byteLength(line)).toBe(bytes);
  return line;
}

describe('stdio framing', () => {
  it('delivers several lines of one chunk in order, skipping blank lines and CRLF ends', async () => {
    const c = channel(1024);
    await c.feed('{"jsonrpc":"2.0","id":1,"method":"ping"}\n\n\r\n  {"jsonrpc":"2.0","id":2,"method":"ping"}\r\n');
    expect(c.received.map((m) => (m as { id: number }).id)).toEqual([1, 2]);
    expect(c.answers).toEqual([]);
  });

  for (const split of [false, true]) {
    const how = split ? 'split over chunks' : 'whole in one chunk';
    it(`accepts a line of exactly the byte limit and rejects one byte more, ${how}`, async () => {
      const c = channel(300);
      const fits = pingOfBytes(1, 300);
      const over = pingOfBytes(2, 301);
      for (const line of [fits, over, '{"jsonrpc":"2.0","id":3,"method":"ping"}']) {
        const bytes = Buffer.from(line + '\n');
        await (split ? c.feed(bytes.subarray(0, 100), bytes.subarray(100)) : c.feed(bytes));
      }
      expect(c.received.map((m) => (m as { id: number }).id)).toEqual([1, 3]);
      expect(c.answers).toEqual([{ jsonrpc: '2.0', id: null, error: expect.objectContaining({ code: -32600 }) }]);
    });
  }

  it('decodes a multi-byte character split between chunks', async () => {
    const c = channel(1024);
    const bytes = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"é€"}}\n');
    const at = bytes.indexOf(0xe2) + 1; // inside the three bytes of €
    await c.feed(bytes.subarray(0, at), bytes.subarray(at));
    expect((c.received[0] as unknown as { params: { pad: string } }).params.pad).toBe('é€');
  });

  it('answers an oversized line once and still delivers the next line of the same chunk', async () => {
    const c = channel(64);
    await c.feed(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'x'.repeat(100)}"}}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n`);
    expect(c.received.map((m) => (m as { id: number }).id)).toEqual([2]);
    expect(c.answers).toHaveLength(1);
    expect(c.answers[0]!.error!.code).toBe(-32600);
  });

  it('answers bad JSON in a whole line with -32700', async () => {
    const c = channel(1024);
    await c.feed('{"jsonrpc": "2.0", "id": 5, "method": \n');
    expect(c.answers).toEqual([{ jsonrpc: '2.0', id: null, error: expect.objectContaining({ code: -32700 }) }]);
  });
});
