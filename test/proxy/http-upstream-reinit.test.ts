import { afterEach, describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startHttpWarden } from '../helpers/in-process-warden.js';
import { connectHttp } from '../helpers/mcp-clients.js';
import { upstreams } from '../helpers/paths.js';
import { eventuallyResolves, until } from '../helpers/progress.js';
import { startSessionServer } from '../helpers/proxy-session-server.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/** The agent's clientInfo as connectHttp sends it: warden must re-initialize with the agent's own params. */
const AGENT_INFO = { name: 'test-agent', version: '1.0.0' };

/** The text of a tool result's first content item. */
function textOf(result: object): string {
  return ((result as { content: Array<{ text: string }> }).content)[0]!.text;
}

/** Warden on HTTP in front of `upstreamConfig`, and an agent connected to it over HTTP. */
async function wardenWithAgent(upstreamConfig: Record<string, unknown>) {
  const warden = await startHttpWarden({ upstreams: upstreamConfig });
  closers.push(() => warden.close());
  const agent = await connectHttp(warden.url);
  closers.push(agent.close);
  let listChanged = 0;
  agent.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
  await agent.client.listTools();
  return { agent, listChanged: () => listChanged };
}

describe('HTTP upstream that loses its session', () => {
  it('fails the in-flight call with -32000 when the server answers 404 for its session, then starts a new session with the agent\'s initialize params', async () => {
    const server = await startSessionServer('only');
    closers.push(server.stop);
    const { agent, listChanged } = await wardenWithAgent({ remote: { url: server.url } });
    const agentSession = agent.transport.sessionId;
    expect(textOf(await agent.client.callTool({ name: 'echo', arguments: { message: 'before' } }))).toBe('before');
    const hanging = agent.client.callTool({ name: 'hang', arguments: {} });
    hanging.catch(() => undefined); // asserted below; it may settle before the assertion is attached
    await until(() => server.calls.includes('hang'));

    server.forgetSessions(); // as a server that expired the session: its id now gets 404
    const lost = { code: -32000, message: expect.stringMatching(/upstream 'remote' lost its session \(HTTP 404\)/) };
    await expect(agent.client.callTool({ name: 'echo', arguments: { message: 'during' } })).rejects.toMatchObject(lost);
    await expect(hanging).rejects.toMatchObject(lost);
    expect(server.notFound).toContain(server.sessionIds[0]);

    const after = await eventuallyResolves(() => agent.client.callTool({ name: 'echo', arguments: { message: 'after' } }));
    expect(textOf(after)).toBe('after');
    expect(server.sessionIds).toHaveLength(2);
    expect(server.initializes).toHaveLength(2);
    expect(server.initializes[1]).toEqual(server.initializes[0]);
    expect(server.initializes[1]!.clientInfo).toEqual(AGENT_INFO);
    // The agent's own session with warden survived, and it was told to re-list (onRestarted).
    expect(agent.transport.sessionId).toBe(agentSession);
    await until(() => listChanged() >= 1);
  });

  it('learns of a session the server ended cleanly from the SDK re-opening its GET stream (404), without waiting for a call', async () => {
    const server = await startSessionServer('only');
    closers.push(server.stop);
    const { agent, listChanged } = await wardenWithAgent({ remote: { url: server.url } });
    const hanging = agent.client.callTool({ name: 'hang', arguments: {} });
    hanging.catch(() => undefined); // asserted below
    await until(() => server.calls.includes('hang'));
    // The hanging call's stream ends without an answer, which is no loss by itself; the SDK
    // re-opens the GET stream with the old session id and gets the 404.
    await server.endSessions();
    await expect(hanging).rejects.toMatchObject({ code: -32000, message: expect.stringMatching(/upstream 'remote' lost its session \(HTTP 404\)/) });
    await until(() => server.initializes.length === 2 && listChanged() >= 1);
    expect(server.notFound).toEqual([server.sessionIds[0]]);
    expect(textOf(await agent.client.callTool({ name: 'echo', arguments: { message: 'after' } }))).toBe('after');
  });

  it('fails in-flight calls at once when the server dies mid-call, and starts a new session when it is back on the same port', async () => {
    const first = await startSessionServer('first');
    closers.push(first.stop);
    const { agent } = await wardenWithAgent({ remote: { url: first.url }, acme: upstreams.acme() });
    const agentSession = agent.transport.sessionId;
    expect(textOf(await agent.client.callTool({ name: 'remote__whoami', arguments: {} }))).toBe('first');
    const hanging = agent.client.callTool({ name: 'remote__hang', arguments: {} });
    hanging.catch(() => undefined); // asserted below; it may settle while the server stops
    await until(() => first.calls.includes('hang'));

    await first.stop();
    // The response stream of the hanging call broke: answered now, not at the call timeout.
    await expect(hanging).rejects.toMatchObject({ code: -32000, message: expect.stringMatching(/upstream 'remote' dropped the connection while answering/) });

    const second = await startSessionServer('second', { port: first.port });
    closers.push(second.stop);
    const who = await eventuallyResolves(() => agent.client.callTool({ name: 'remote__whoami', arguments: {} }));
    expect(textOf(who)).toBe('second');
    expect(second.initializes).toHaveLength(1);
    expect(second.initializes[0]!.clientInfo).toEqual(AGENT_INFO);
    expect(agent.transport.sessionId).toBe(agentSession);
  });

  it('starts a new session when a restarted single-transport SDK server answers the old one with 400 "Server not initialized"', async () => {
    const first = await startSessionServer('first', { singleTransport: true });
    closers.push(first.stop);
    const { agent } = await wardenWithAgent({ remote: { url: first.url } });
    expect(textOf(await agent.client.callTool({ name: 'whoami', arguments: {} }))).toBe('first');
    // Back on the same port before the SDK's GET stream reconnects (~1 s): no network failure to notice.
    await first.stop();
    const second = await startSessionServer('second', { port: first.port, singleTransport: true });
    closers.push(second.stop);
    const who = await eventuallyResolves(() => agent.client.callTool({ name: 'whoami', arguments: {} }));
    expect(textOf(who)).toBe('second');
    expect(second.initializes).toHaveLength(1);
    expect(second.initializes[0]!.clientInfo).toEqual(AGENT_INFO);
  });

  it('does not leave calls hanging while the server is away: a fast -32000, and other upstreams keep working', async () => {
    const server = await startSessionServer('first');
    closers.push(server.stop);
    const { agent } = await wardenWithAgent({ remote: { url: server.url }, acme: upstreams.acme() });
    await server.stop();
    // A hang would surface as the agent's own timeout (-32001), not warden's -32000.
    const quick = { timeout: 3000 };
    for (let i = 0; i < 3; i++) {
      await expect(agent.client.callTool({ name: 'remote__echo', arguments: { message: 'x' } }, undefined, quick)).rejects.toMatchObject({ code: -32000 });
      expect(textOf(await agent.client.callTool({ name: 'acme__echo', arguments: { message: `other ${i}` } }))).toBe(`other ${i}`);
    }
  });

  it('does not mistake a 404 on initialize (no session yet) for a lost session: the start fails and nothing retries', async () => {
    const server = await startSessionServer('only');
    closers.push(server.stop);
    const warden = await startHttpWarden({ upstreams: { remote: { url: server.url.replace('/mcp', '/wrong') } } });
    closers.push(() => warden.close());
    await expect(connectHttp(warden.url)).rejects.toMatchObject({ code: -32603 });
    expect(server.strays).toEqual(['POST /wrong']);
    // Longer than the first two restart delays (250 + 500 ms): a background retry would show here.
    await new Promise((r) => setTimeout(r, 1000));
    expect(server.strays).toEqual(['POST /wrong']);
  });

  it('does not re-initialise in a tight loop when every new session is lost at once (no sticky sessions)', async () => {
    const server = await startSessionServer('forgetful', { keepSessions: false });
    closers.push(server.stop);
    const warden = await startHttpWarden({ upstreams: { remote: { url: server.url } } });
    closers.push(() => warden.close());
    const agent = await connectHttp(warden.url);
    closers.push(agent.close);
    // Each new session is lost on its first request after initialize; the delays must keep
    // doubling (250, 500, 1000 ms) rather than start over at 250 ms after every initialize.
    await until(() => server.initializedAt.length >= 4, 10_000);
    const at = server.initializedAt;
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(500);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(1000);
    // The agent's session with warden is untouched throughout.
    expect(await agent.client.ping()).toEqual({});
  });
});
