import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { createAnonymousAuthenticator } from '../../src/identity/anonymous-authenticator.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createAllowAllGuard } from '../../src/proxy/allow-all-guard.js';
import type { ProxySession } from '../../src/proxy/proxy-session.js';
import { StdioDownstream } from '../../src/proxy/stdio-downstream.js';
import { WardenRuntime } from '../../src/proxy/warden-runtime.js';
import { waitFor } from '../helpers/progress.js';
import { collectJsonLines } from '../helpers/in-process-warden.js';
import { hostileUpstream } from '../helpers/hostile-raw-agent.js';

type Message = Record<string, unknown>;
const ROUNDS = 40;


/**
 * A stdio session built from warden's own parts, so the test can look at the session's routing
 * maps: what they hold is invisible on the wire until it has grown too large.
 */
async function sessionWithHoldingUpstream() {
  const config = WardenConfigSchema.parse({ upstreams: { hostile: hostileUpstream() }, dangerouslyAllowAnonymous: true });
  const logger = silentLogger();
  const runtime = new WardenRuntime(config, createAnonymousAuthenticator(), createAllowAllGuard(), undefined, logger, { name: 'mcp-warden', version: 'test' });
  const input = new PassThrough();
  const output = new PassThrough();
  const lines = collectJsonLines<Message>(output);
  const channel = new StdioDownstream(input, output, config.limits.maxMessageBytes, config.limits.maxBufferedOutputBytes, logger);
  const session: ProxySession = runtime.createSession({ sessionId: 'progress-test', channel, principal: undefined, remoteAddress: undefined, userAgent: undefined });
  channel.start();
  const send = (m: Message): void => void input.write(`${JSON.stringify(m)}\n`);
  const answer = async (id: string): Promise<Message> => waitFor(() => lines.find((l) => l.id === id && !('method' in l)), `the answer to ${id}`);
  send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'agent', version: '1' } } });
  await answer('init');
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 'list', method: 'tools/list' });
  await answer('list');
  return { session, send, answer, lines, close: () => session.close('test over') };
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/** Sends ROUNDS requests that the upstream never answers, each with its own progress token. */
async function holdRequests(s: Awaited<ReturnType<typeof sessionWithHoldingUpstream>>, request: (i: number) => Message): Promise<void> {
  for (let i = 0; i < ROUNDS; i++) s.send(request(i));
  // Every token is held while its request is in flight: the map this test watches really fills.
  await waitFor(() => (s.session.progress.size.routes === ROUNDS ? true : undefined), `${ROUNDS} progress tokens in flight`);
  // Progress from the upstream for some of them: the relay time is remembered per token too.
  const progress = (i: number) => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: `tok${i}`, progress: 1 } });
  s.send({ jsonrpc: '2.0', id: 'emit', method: 'tools/call', params: { name: 'emit', arguments: { lines: [0, 1, 2].map(progress) } } });
  await s.answer('emit');
  expect(s.session.progress.size.relayTimes).toBe(3);
}

function cancelAll(s: Awaited<ReturnType<typeof sessionWithHoldingUpstream>>): void {
  for (let i = 0; i < ROUNDS; i++) s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: `h${i}`, reason: 'changed my mind' } });
}

describe('progress tokens of cancelled requests are forgotten', () => {
  it('an agent sending and cancelling forwarded requests with progress tokens cannot grow the session', async () => {
    const s = await sessionWithHoldingUpstream();
    closers.push(s.close);
    await holdRequests(s, (i) => ({ jsonrpc: '2.0', id: `h${i}`, method: 'test/hold', params: { _meta: { progressToken: `tok${i}` } } }));
    cancelAll(s);
    await waitFor(() => (s.session.progress.size.routes === 0 ? true : undefined), 'every token forgotten');
    expect(s.session.progress.size.relayTimes).toBe(0);
    // The session still serves, and a later request's progress is routed as before.
    s.send({ jsonrpc: '2.0', id: 'echo', method: 'tools/call', params: { name: 'echo', arguments: {} } });
    expect(JSON.stringify(await s.answer('echo'))).toContain('still here');
  });

  it('an agent sending and cancelling tool calls with progress tokens cannot grow the session', async () => {
    const s = await sessionWithHoldingUpstream();
    closers.push(s.close);
    await holdRequests(s, (i) => ({ jsonrpc: '2.0', id: `h${i}`, method: 'tools/call', params: { name: 'hold', arguments: {}, _meta: { progressToken: `tok${i}` } } }));
    cancelAll(s);
    await waitFor(() => (s.session.progress.size.routes === 0 ? true : undefined), 'every token forgotten');
    expect(s.session.progress.size.relayTimes).toBe(0);
    expect(s.session.inFlight.size).toBe(0);
  });
});
