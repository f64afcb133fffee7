import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RECEIVER_CONNECTIONS } from '../../src/events/event-receiver-server.js';
import { startFixture, type ReceiverFixture } from './receiver-fixture.js';

/**
 * Without push authorization anyone who reaches the receiver can send bodies: each connection may
 * hold up to maxBodyBytes being read until the request timeout. The connections are capped, so
 * that memory is bounded however many a client opens.
 */
let fx: ReceiverFixture | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await fx?.close();
});

function openHalfSent(url: URL): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname, () => {
      // Headers promise a large body that never comes: the server holds the connection open.
      s.write(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\ncontent-type: application/secevent+jwt\r\ncontent-length: 60000\r\n\r\n${'x'.repeat(1000)}`);
      resolve(s);
    });
    s.on('error', reject);
  });
}

describe('SET receiver under a connection flood', () => {
  it('closes connections beyond its cap at once instead of buffering a body for each', async () => {
    fx = await startFixture();
    const url = new URL(fx.receiver.url);
    for (let i = 0; i < MAX_RECEIVER_CONNECTIONS; i++) sockets.push(await openHalfSent(url));
    const extra = await openHalfSent(url);
    sockets.push(extra);
    const closed = await new Promise<boolean>((resolve) => {
      extra.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 3_000);
    });
    expect(closed).toBe(true);
  });
});
