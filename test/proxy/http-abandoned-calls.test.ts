import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbandonedCalls } from '../../src/proxy/http-abandoned-calls.js';

/**
 * Real sockets: a Node HTTP server whose handler watches the response, and a client that either
 * reads the answer or drops the connection before it (like an agent process exiting).
 */
let server: Server | undefined;
afterEach(() => server?.close());

async function serve(onRequest: (res: ServerResponse) => void): Promise<number> {
  server = createServer((_req, res) => onRequest(res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

function closedAfterHeaders(port: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST' }, (res) => {
      res.socket.destroy(); // the agent goes away before the answer
      resolve();
    });
    req.end('{}');
  });
}

const closed = (res: ServerResponse) => new Promise<void>((r) => (res.destroyed ? r() : res.once('close', () => r())));

describe('AbandonedCalls', () => {
  it('reports a request whose stream the agent closed before the answer', async () => {
    const seen: unknown[] = [];
    const calls = new AbandonedCalls((id) => (seen.push(id), true));
    let served: ServerResponse | undefined;
    const port = await serve((res) => {
      served = res;
      calls.watch(7, res);
      res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
    });
    await closedAfterHeaders(port);
    await closed(served!);
    expect(seen).toEqual([7]);
    expect(calls.take(7)).toBe(false); // handled by the session, no mark left
  });

  it('keeps a mark, consumed once, when the session does not hold the request yet', async () => {
    const calls = new AbandonedCalls(() => false);
    let served: ServerResponse | undefined;
    const port = await serve((res) => {
      served = res;
      calls.watch('call-1', res);
      res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
    });
    await closedAfterHeaders(port);
    await closed(served!);
    expect(calls.take('call-1')).toBe(true);
    expect(calls.take('call-1')).toBe(false);
  });

  it('does not cancel a request that was answered or whose stream ended normally', async () => {
    const seen: unknown[] = [];
    const calls = new AbandonedCalls((id) => (seen.push(id), false));
    const port = await serve((res) => {
      calls.watch(1, res);
      calls.watch(2, res);
      calls.answered(1);
      res.end('done');
    });
    await new Promise<void>((resolve) => request({ port, host: '127.0.0.1', method: 'POST' }, (res) => res.resume().on('end', resolve)).end('{}'));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    expect(calls.take(1)).toBe(false);
    expect(calls.take(2)).toBe(false);
  });
});
