import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeConfig, spawnWardenHttp, type WardenHttpProcess } from '../../helpers/warden-process.js';
import { rawHttp } from '../../helpers/raw-http.js';

/**
 * Every request body is bounded by maxBodyBytes, but bodies being read at the same time were not:
 * one caller opening many POSTs that never finish held maxBodyBytes per connection in warden's
 * memory (150 connections: ~700 MB), no session needed, until warden (every agent's proxy) died.
 */
const MAX_BODY = 20_000;
let warden: WardenHttpProcess;
let host: string;

beforeAll(async () => {
  warden = await spawnWardenHttp(acmeConfig({ logging: { level: 'info' }, listen: { stdio: false, http: { port: 0, maxBodyBytes: MAX_BODY, maxSessionsPerPrincipal: 2, maxSessions: 4 } } }));
  host = new URL(warden.url).host;
});
afterAll(async () => {
  await warden?.stop();
});

/** A POST whose body is sent up to `bytes` and never finished; resolves with the status line if warden answers. */
function unfinishedPost(bytes: number): { socket: Socket; answer: Promise<string> } {
  const socket = connect(Number(new URL(warden.url).port), '127.0.0.1');
  const answer = new Promise<string>((resolve) => {
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) resolve(got.split('\r\n')[0]!);
    });
    socket.on('error', () => undefined);
  });
  socket.write(`POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${MAX_BODY}\r\n\r\n`);
  socket.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"pad":"' + 'a'.repeat(bytes - 60));
  return { socket, answer };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'no answer'> => Promise.race([p, new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), ms))]);

describe('bodies being read at once are bounded', () => {
  it('refuses the bodies of one caller beyond its share (429) instead of buffering without end', async () => {
    // The principal's share is maxBodyBytes × maxSessionsPerPrincipal (40,000 bytes): three nearly
    // full bodies cannot all be held.
    const posts = [unfinishedPost(MAX_BODY - 2_000), unfinishedPost(MAX_BODY - 2_000), unfinishedPost(MAX_BODY - 2_000)];
    try {
      const first = await within(Promise.race(posts.map((p) => p.answer)), 10_000);
      expect(first).toBe('HTTP/1.1 429 Too Many Requests');
    } finally {
      for (const p of posts) p.socket.destroy();
    }
    // The refused and abandoned bodies give their share back: a normal request is read again.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      const res = await rawHttp(warden.url, {
        headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      });
      status = res.status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
  });
});
