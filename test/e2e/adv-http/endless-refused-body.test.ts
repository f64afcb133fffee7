import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startHttpWarden } from '../../helpers/in-process-warden.js';
import { createTestAuthenticator, testPrincipal } from '../../helpers/test-authenticator.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * A request refused before warden reads its body (a foreign Host, no valid token, an unknown
 * session) is answered at once; Node's HTTP server then reads and discards the rest of the body
 * to keep the connection alive, for as long as the client sends (up to its request timeout,
 * five minutes). Anyone who can reach the port, without a token, could keep warden's one event
 * loop parsing gigabytes of chunked body per connection. Such a refusal now closes the connection.
 */
const closers = closedAfterEach();

/** Sends headers, then an endless chunked body; resolves with the bytes sent once the socket closes (or after `ms`). */
function endlessBody(url: string, headers: string, ms = 3_000): Promise<{ sent: number; closed: boolean; status: string }> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname);
    let sent = 0;
    let closed = false;
    let status = '';
    socket.on('data', (d: Buffer) => (status ||= d.toString('latin1').split('\r\n')[0]!));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.write(`POST ${target.pathname} HTTP/1.1\r\n${headers}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 32);
    const started = Date.now();
    const pump = (): void => {
      while (!closed && Date.now() - started < ms) {
        sent += chunk.length;
        // One whole chunk each time (header, data, CRLF): the parser must never see a torn frame.
        if (!socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]))) return void socket.once('drain', pump);
      }
      socket.destroy();
      resolve({ sent, closed, status });
    };
    socket.once('close', () => resolve({ sent, closed: true, status }));
    pump();
  });
}

const LIMIT = 64 * 1024 * 1024;

describe('an endless body on a request warden refuses before reading it', () => {
  it('is cut off with the connection, without a token (401 endless body)', async () => {
    const warden = await startHttpWarden({ dangerouslyAllowAnonymous: false }, { authenticator: createTestAuthenticator({ 'alice-token': testPrincipal('alice') }) });
    closers.push(() => warden.close());
    const result = await endlessBody(warden.url, `Host: ${new URL(warden.url).host}\r\n`);
    expect(result.status).toMatch(/ 401 /);
    expect(result.closed).toBe(true);
    expect(result.sent).toBeLessThan(LIMIT);
  }, 20_000);

  it('is cut off with the connection for a foreign Host (403 endless body)', async () => {
    const warden = await startHttpWarden();
    closers.push(() => warden.close());
    const result = await endlessBody(warden.url, 'Host: evil.example:80\r\n');
    expect(result.status).toMatch(/ 403 /);
    expect(result.closed).toBe(true);
    expect(result.sent).toBeLessThan(LIMIT);
  }, 20_000);

  it('is cut off with the connection on an unknown session (404 endless body)', async () => {
    const warden = await startHttpWarden();
    closers.push(() => warden.close());
    const result = await endlessBody(warden.url, `Host: ${new URL(warden.url).host}\r\nMcp-Session-Id: nope\r\n`);
    expect(result.status).toMatch(/ 404 /);
    expect(result.closed).toBe(true);
    expect(result.sent).toBeLessThan(LIMIT);
  }, 20_000);
});
