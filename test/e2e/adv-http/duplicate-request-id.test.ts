import { request, type ClientRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { GuardVerdict, ToolCallRequest } from '../../../src/core/tool-call.js';
import { startHttpWarden } from '../../helpers/in-process-warden.js';
import { openHttpSession } from '../../helpers/hostile-http.js';
import { until } from '../../helpers/progress.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * JSON-RPC ids are unique per session; an agent (buggy, or probing) that sends a second request
 * under the id of one still held (a call waiting for a human) gets -32600. The refusal must leave
 * the held request as it was: its answer still reaches the stream that carries it, and closing
 * that stream still withdraws it.
 */
const closers = closedAfterEach();

const call = (message: string) => JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { message } } });

/** A guard that holds the call `held` until the test releases it or its signal aborts. */
function holdingGuard() {
  const held: Array<{ req: ToolCallRequest; release: (v: GuardVerdict) => void }> = [];
  const guard = {
    checkToolCall: (req: ToolCallRequest): GuardVerdict | Promise<GuardVerdict> =>
      new Promise<GuardVerdict>((resolve) => {
        held.push({ req, release: resolve });
        req.signal.addEventListener('abort', () => resolve({ kind: 'respond', result: { content: [{ type: 'text', text: 'withdrawn' }], isError: true } }), { once: true });
      }),
  };
  return { guard, held };
}

/** POSTs a body on the session and keeps the response stream open; `text()` is what arrived so far. */
function openStream(url: string, headers: Record<string, string>, body: string): { req: ClientRequest; text: () => string } {
  const target = new URL(url);
  let received = '';
  const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { host: target.host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
    res.on('data', (c: Buffer) => (received += c.toString('utf8')));
  });
  req.on('error', () => undefined);
  req.end(body);
  return { req, text: () => received };
}

async function setUp() {
  const { guard, held } = holdingGuard();
  const warden = await startHttpWarden({}, { guard });
  closers.push(() => warden.close());
  const session = await openHttpSession(warden.url);
  const first = openStream(warden.url, session.headers, call('first'));
  await until(() => held.length === 1);
  const duplicate = await session.post(call('second'));
  expect(duplicate.messages).toEqual([expect.objectContaining({ id: 7, error: expect.objectContaining({ code: -32600 }) })]);
  return { held, first };
}

describe('a second request under the id of one held on the same HTTP session', () => {
  it('leaves the held call\'s answer on its own stream (a reused id took the stream mapping)', async () => {
    const { held, first } = await setUp();
    held[0]!.release({ kind: 'respond', result: { content: [{ type: 'text', text: 'released' }] } });
    await until(() => first.text().includes('released'));
  });

  it('still withdraws the held call when the agent closes its stream (a reused id dropped the watch)', async () => {
    const { held, first } = await setUp();
    first.req.destroy();
    await until(() => held[0]!.req.signal.aborted);
  });
});
