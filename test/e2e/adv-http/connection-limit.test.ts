import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HEADERS_TIMEOUT_MS } from '../../../src/proxy/connection-limit.js';
import { startHttpWarden } from '../../helpers/in-process-warden.js';
import { connectHttp } from '../../helpers/mcp-clients.js';
import { eventuallyResolves } from '../../helpers/progress.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';
import { acmeConfig, spawnWardenHttp } from '../../helpers/warden-process.js';

/**
 * Before any authentication, a client can open TCP connections to the HTTP listener and send
 * nothing, or headers a byte at a time. Each holds a file descriptor; without bounds warden runs
 * out of them for everything else (its stdio agent, upstream children, the audit file).
 */
const closers = closedAfterEach();

/** A TCP connection to warden; `localAddress` picks the client's address (any 127.x.y.z on Linux). */
function openSocket(url: string, localAddress?: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(target.port), host: target.hostname, ...(localAddress ? { localAddress } : {}) });
    const started = Date.now();
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
    closers.push(() => socket.destroy());
  });
}

describe('HTTP connections held by clients that never authenticate', () => {
  it('idle connections up to listen.http.maxConnections do not let a flood take more: the next one is closed, and agents connect again once they go (connection flood)', async () => {
    const warden = await startHttpWarden({ listen: { stdio: false, http: { port: 0, maxConnections: 4 } } });
    closers.push(() => warden.close());
    const idle = await Promise.all(Array.from({ length: 4 }, () => openSocket(warden.url)));
    // The fifth is accepted by the kernel and closed by warden at once, without an answer.
    const fifth = await openSocket(warden.url);
    let answered = false;
    fifth.socket.on('data', () => (answered = true));
    fifth.socket.write(`GET /mcp HTTP/1.1\r\nHost: ${new URL(warden.url).host}\r\n\r\n`);
    expect(await fifth.closed).toBeLessThan(5_000);
    expect(answered).toBe(false);
    for (const s of idle) s.socket.destroy();
    await Promise.all(idle.map((s) => s.closed));
    // Room again: a real agent connects and works.
    const agent = await eventuallyResolves(() => connectHttp(warden.url), 10_000);
    closers.push(() => agent.close());
    expect((await agent.client.listTools()).tools.map((t) => t.name)).toContain('echo');
  }, 30_000);

  it('loopback clients are not held to listen.http.maxConnectionsPerAddress: every agent of a warden on loopback comes from there', async () => {
    const warden = await startHttpWarden({ listen: { stdio: false, http: { port: 0, maxConnections: 8, maxConnectionsPerAddress: 2 } } });
    closers.push(() => warden.close());
    const idle = await Promise.all(Array.from({ length: 4 }, (_, i) => openSocket(warden.url, `127.0.0.${(i % 2) + 1}`)));
    const agent = await connectHttp(warden.url);
    closers.push(() => agent.close());
    expect((await agent.client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(idle.every((s) => !s.socket.destroyed)).toBe(true);
  }, 30_000);

  it('a client that sends its headers a byte at a time is disconnected after the header timeout, not held for minutes (slowloris)', async () => {
    const warden = await startHttpWarden();
    closers.push(() => warden.close());
    const slow = await openSocket(warden.url);
    const request = `POST /mcp HTTP/1.1\r\nHost: ${new URL(warden.url).host}\r\nX-Padding: ${'a'.repeat(10_000)}`;
    let i = 0;
    const drip = setInterval(() => {
      if (!slow.socket.destroyed) slow.socket.write(request[i++ % request.length]!);
    }, 200);
    closers.push(() => clearInterval(drip));
    const heldMs = await slow.closed;
    clearInterval(drip);
    // Node's own default would be 60 s, checked every 30 s.
    expect(heldMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 500);
    expect(heldMs).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000);
  }, 40_000);
});

describe('the connection cap and the session limits', () => {
  /**
   * Over HTTP/1.1 each request in flight holds a connection, and each session its GET stream. The
   * fixed default of 1,024 was below what the default session limits allow (64 × (64 + 1)), so a
   * load within them met the connection cap first, its connections closed unanswered. Idle
   * sockets stand in for those connections here (the cap counts TCP connections, whatever they
   * carry); one session of 1,100 requests in flight needs 1,101.
   */
  it('by default holds as many connections as the sessions may hold, so a load within the session and request limits is not cut off at the connection cap', async () => {
    const warden = await startHttpWarden({ listen: { stdio: false, http: { port: 0, maxSessions: 1, maxRequestsInFlightPerSession: 1_100 } } });
    closers.push(() => warden.close());
    const held: Array<Awaited<ReturnType<typeof openSocket>>> = [];
    // In batches: the listen backlog (511) would otherwise drop connection attempts to be retried seconds later.
    while (held.length < 1_101) held.push(...(await Promise.all(Array.from({ length: Math.min(200, 1_101 - held.length) }, () => openSocket(warden.url)))));
    let closedEarly = 0;
    for (const h of held) void h.closed.then(() => (closedEarly += 1));
    // One beyond what the sessions may hold is closed at once (the cap is that number, no larger).
    const beyond = await openSocket(warden.url);
    expect(await beyond.closed).toBeLessThan(HEADERS_TIMEOUT_MS / 2);
    expect(closedEarly).toBe(0);
    for (const h of held) h.socket.destroy();
  }, 30_000);

  it('warns at start-up, naming the keys, when maxConnections is set below what the sessions may hold', async () => {
    const low = await spawnWardenHttp(acmeConfig({ logging: { level: 'info' }, listen: { stdio: false, http: { port: 0, maxConnections: 8, maxSessions: 2, maxRequestsInFlightPerSession: 4 } } }));
    closers.push(() => low.stop());
    const warning = low.stderr.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.includes('listen.http.maxConnections'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain('listen.http.maxConnections (8) is below the 10 connections listen.http.maxSessions × (maxRequestsInFlightPerSession + 1)');
    // Limits that fit, and the defaults, say nothing.
    const fitting = await spawnWardenHttp(acmeConfig({ logging: { level: 'info' }, listen: { stdio: false, http: { port: 0, maxConnections: 10, maxSessions: 2, maxRequestsInFlightPerSession: 4 } } }));
    closers.push(() => fitting.stop());
    const defaults = await spawnWardenHttp(acmeConfig({ logging: { level: 'info' }, listen: { stdio: false, http: { port: 0 } } }));
    closers.push(() => defaults.stop());
    for (const w of [fitting, defaults]) expect(w.stderr.some((l) => l.includes('listen.http.maxConnections ('))).toBe(false);
  }, 30_000);
});
