import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlUnavailableError, createControlClient } from '../../src/control/control-client.js';
import { tempDir } from '../helpers/warden-process.js';
import { runCli } from '../sessions/run-cli.js';

/** A listener that takes every connection and never says a word: a hung warden, or another program on the port. */
async function silentListener(): Promise<{ url: string; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, sockets };
}

const open: Array<{ close: () => void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

describe('control API clients do not wait forever for an answer', () => {
  it('warden sessions against a listener that never answers exits 4 naming the URL, instead of hanging', async () => {
    const silent = await silentListener();
    open.push({ close: () => (silent.sockets.forEach((s) => s.destroy()), silent.server.close()) });
    const dir = tempDir('warden-silent-control-');
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, 'x'.repeat(43), { mode: 0o600 });
    const started = Date.now();
    const r = await runCli(['sessions', '--url', silent.url, '--token-file', tokenFile]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(silent.url);
    expect(r.stderr).toContain('no answer within 10 s');
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 30_000);

  it('the approval stream that never opens fails with ControlUnavailableError after the bound', async () => {
    const silent = await silentListener();
    open.push({ close: () => (silent.sockets.forEach((s) => s.destroy()), silent.server.close()) });
    const client = createControlClient({ url: silent.url, token: 't' }, { answerTimeoutMs: 200 });
    const ac = new AbortController();
    await expect(client.stream('/approvals/stream', () => {}, ac.signal)).rejects.toBeInstanceOf(ControlUnavailableError);
  });

  it('a request whose answer starts and then stalls fails after the bound', async () => {
    const server: HttpServer = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"sessions":');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => (server.closeAllConnections(), server.close()) });
    const port = (server.address() as { port: number }).port;
    const client = createControlClient({ url: `http://127.0.0.1:${port}`, token: 't' }, { answerTimeoutMs: 300 });
    await expect(client.request('GET', '/sessions')).rejects.toThrow(/no answer within 300 ms/);
  });

  it('an approval stream that goes silent (no event, no heartbeat) is taken for lost after the idle bound, not followed forever', async () => {
    const server: HttpServer = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: pending\ndata: {"id":"apr_1"}\n\n');
      // then nothing: a warden that stopped (SIGSTOP) or a connection lost without a FIN
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => (server.closeAllConnections(), server.close()) });
    const port = (server.address() as { port: number }).port;
    const client = createControlClient({ url: `http://127.0.0.1:${port}`, token: 't' }, { streamIdleMs: 300 });
    const events: string[] = [];
    const ac = new AbortController();
    await expect(client.stream('/approvals/stream', (event) => events.push(event), ac.signal)).rejects.toThrow(/no data, not even a heartbeat, for 300 ms/);
    expect(events).toEqual(['pending']);
  });

  it('heartbeats keep a quiet approval stream open past the idle bound', async () => {
    const server: HttpServer = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const beat = setInterval(() => res.write(': ping\n\n'), 100);
      setTimeout(() => (clearInterval(beat), res.end()), 1_000);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => (server.closeAllConnections(), server.close()) });
    const port = (server.address() as { port: number }).port;
    const client = createControlClient({ url: `http://127.0.0.1:${port}`, token: 't' }, { streamIdleMs: 300 });
    // Ends normally when the server ends it, after 1 s of heartbeats only.
    await expect(client.stream('/approvals/stream', () => {}, new AbortController().signal)).resolves.toBeUndefined();
  });
});
