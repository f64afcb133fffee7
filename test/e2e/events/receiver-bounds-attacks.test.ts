import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventsHttpWarden } from '../../helpers/events-warden.js';
import { auditOfType, type IdentityEnv } from '../../helpers/identity-env.js';
import type { HttpWarden } from '../../helpers/identity-warden.js';
import { at, userSubject, type Transmitter } from '../../helpers/events-sets.js';

/**
 * The SET receiver without push authorization: anyone who reaches the port may send to it. What
 * it holds for them is bounded, against a real `warden run` and real connections. Linux routes all
 * of 127.0.0.0/8 to loopback, so clients bound to 127.0.0.x are distinct source addresses.
 */
const LIMITS = { maxRequests: 4, maxRequestsPerSource: 2, maxConnections: 12 };
const BODY_BYTES = 60_000;

let env: IdentityEnv;
let tx: Transmitter;
let warden: HttpWarden;
let eventsUrl: URL;
const open: Socket[] = [];

/** A POST that declares a 60 KB body and sends 16 bytes of it, then stalls (a slow body). */
function slowBody(localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: eventsUrl.hostname, port: Number(eventsUrl.port), localAddress }, () => {
      socket.write(`POST ${eventsUrl.pathname} HTTP/1.1\r\nHost: ${eventsUrl.host}\r\nContent-Type: application/secevent+jwt\r\nContent-Length: ${BODY_BYTES}\r\n\r\n${'x'.repeat(16)}`);
      resolve(socket);
    });
    // A dropped or refused connection: what the test looks at is the receiver, not this socket.
    socket.on('error', () => resolve(socket));
    open.push(socket);
  });
}

/** The warden process's resident memory in bytes (Linux). */
function rssBytes(): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${warden.pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** POSTs `body` from `localAddress`; the status, or 'dropped' when the connection was closed unanswered. */
function post(body: string, localAddress: string): Promise<{ status: number | 'dropped'; retryAfter?: string }> {
  return new Promise((resolve) => {
    const req = request(eventsUrl, { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/secevent+jwt', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers['retry-after'] ? { retryAfter: res.headers['retry-after'] } : {}) }));
    });
    req.on('error', () => resolve({ status: 'dropped' }));
    req.end(body);
  });
}

const settle = () => new Promise((r) => setTimeout(r, 200));
const closeAll = async () => {
  for (const s of open.splice(0)) s.destroy();
  await settle();
};

beforeAll(async () => {
  let url: string;
  ({ env, tx, warden, eventsUrl: url } = await startEventsHttpWarden('warden-e2e-ev-bounds-', { events: { limits: LIMITS } }));
  eventsUrl = new URL(url);
});
afterAll(async () => {
  await closeAll();
  await warden?.stop();
});

describe('SET receiver without push authorization: bounded whatever anyone sends', () => {
  it('slow bodies beyond an address\'s share get 429, beyond the receiver\'s cap 503, unread; the transmitter gets through once they end', async () => {
    const set = await tx.mint({ subId: userSubject('nobody-1'), events: { 'session-revoked': at(Date.now() - 1_000) } });
    await slowBody('127.0.0.1');
    await slowBody('127.0.0.1');
    await settle();
    // The third from the same address: its share is used up (the 60 KB body is never read).
    const third = await post('x'.repeat(BODY_BYTES), '127.0.0.1');
    expect(third).toMatchObject({ status: 429, retryAfter: '5' });
    await slowBody('127.0.0.2');
    await slowBody('127.0.0.2');
    await settle();
    // The receiver's cap: 4 slow bodies held, every further request is refused at once, unread,
    // from any address: memory for bodies stays at most maxRequests x maxBodyBytes.
    for (const address of ['127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      expect(await post('x'.repeat(BODY_BYTES), address)).toMatchObject({ status: 503, retryAfter: '5' });
    }
    expect((await post(set, '127.0.0.6')).status).toBe(503);
    // The slow senders go away (or hit the request timeout): the transmitter's SET is accepted.
    await closeAll();
    expect((await post(set, '127.0.0.6')).status).toBe(202);
  });

  it('hundreds of senders stalling nearly complete 60 KB bodies do not grow warden\'s memory', async () => {
    const before = rssBytes();
    // 400 senders start a body at once; each that still has its connection sends 59 KB more and
    // stalls: about 24 MB if the receiver held every body it was sent.
    const senders = await Promise.all(Array.from({ length: 400 }, (_, i) => slowBody(`127.0.${4 + Math.floor(i / 200)}.${(i % 200) + 1}`)));
    await settle();
    for (const s of senders) if (s.writable) s.write('x'.repeat(BODY_BYTES - 1_000));
    await settle();
    await settle();
    const grown = rssBytes() - before;
    expect(grown).toBeLessThan(10 * 1024 * 1024);
    await closeAll();
  });

  it('connections beyond maxConnections are dropped; once they close the receiver answers again', async () => {
    const idle: Socket[] = [];
    for (let i = 0; i < LIMITS.maxConnections; i++) {
      idle.push(await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: eventsUrl.hostname, port: Number(eventsUrl.port), localAddress: `127.0.1.${i + 1}` }, () => resolve(s));
        s.on('error', reject);
        open.push(s);
      }));
    }
    await settle();
    expect((await post('x', '127.0.2.1')).status).toBe('dropped');
    await closeAll();
    expect((await post('x', '127.0.2.1')).status).toBe(400);
  });

  it('refused SETs are recorded up to the sampler\'s limits per address, the rest in one summary (the audit cannot be flooded)', async () => {
    const before = auditOfType(env.auditFile, 'event.received').filter((r) => r.accepted === false).length;
    for (let i = 0; i < 40; i++) expect((await post(`not.a.jws-${i}`, '127.0.3.1')).status).toBe(400);
    await settle();
    const refused = auditOfType(env.auditFile, 'event.received').filter((r) => r.accepted === false).length - before;
    expect(refused).toBe(10);
    await warden.stop();
    const summary = auditOfType(env.auditFile, 'identity.failures_suppressed').find((r) => r.transport === 'events');
    expect(summary).toMatchObject({ count: 30, reasons: { invalid_request: 30 }, top: [{ remoteAddress: '127.0.3.1', count: 30 }] });
  });
});
