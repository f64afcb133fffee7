import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkCollector } from '../../src/proxy/block-joiner.js';
import { readBody, type BodyResult } from '../../src/proxy/http-guards.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

describe('a request body dripped a byte at a time', () => {
  it('cannot make warden hold one Buffer per byte (each costs ~190 bytes of memory)', () => {
    const body = new ChunkCollector();
    const chunks = 1_000_000;
    for (let i = 0; i < chunks; i++) body.add(Buffer.from([97 + (i % 26)]));
    expect(body.length).toBe(chunks);
    // Joined into blocks as they arrive: about one Buffer per 256 one-byte chunks, not per chunk.
    expect(body.parts).toBeLessThan(chunks / 200);
    const whole = body.concat();
    expect(whole.length).toBe(chunks);
    expect(whole.subarray(0, 28).toString()).toBe('abcdefghijklmnopqrstuvwxyzab');
  });

  it('is still read whole and parsed (one TCP segment per byte)', async () => {
    const message = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'p'.repeat(2_000) } });
    let result: BodyResult | undefined;
    server = createServer((req, res) => {
      void readBody(req, 1024 * 1024).then((r) => {
        result = r;
        res.end('done');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const answered = new Promise<void>((r) => socket.once('data', () => r()));
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n`);
    for (const byte of message) {
      socket.write(byte);
      await new Promise((r) => setImmediate(r));
    }
    await answered;
    socket.destroy();
    expect(result).toEqual({ ok: true, message: JSON.parse(message), bytes: Buffer.byteLength(message) });
  });
});
