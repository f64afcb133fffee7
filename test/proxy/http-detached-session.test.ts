import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpWarden } from '../helpers/in-process-warden.js';
import { connectHttp } from '../helpers/mcp-clients.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gone(list: () => { sessionId: string }[], id: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (list().some((s) => s.sessionId === id)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * The MCP SDK's client close() aborts its fetches and sends no DELETE: without a shorter clock for
 * sessions nobody is attached to, each such run left a session (and its upstream processes) for
 * sessionIdleMs, 30 minutes by default.
 */
describe('HTTP sessions whose agent left without DELETE', () => {
  let warden: Awaited<ReturnType<typeof startHttpWarden>>;
  beforeAll(async () => {
    warden = await startHttpWarden({ listen: { stdio: false, http: { port: 0, sessionIdleMs: 600_000, detachedSessionIdleMs: 300 } } });
  });
  afterAll(() => warden.close());

  it('closes a session nobody is attached to after detachedSessionIdleMs, not sessionIdleMs', async () => {
    const agent = await connectHttp(warden.url);
    const id = agent.transport.sessionId!;
    await agent.client.listTools();
    await agent.client.close(); // what the SDK does: no DELETE
    expect(await gone(() => warden.listSessions(), id, 5_000)).toBe(true);
  });

  it('keeps a session whose agent still holds its GET stream, though it sends nothing', async () => {
    const agent = await connectHttp(warden.url);
    const id = agent.transport.sessionId!;
    await agent.client.listTools();
    await sleep(1_500); // five detached timeouts
    expect(warden.listSessions().map((s) => s.sessionId)).toContain(id);
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'still here' } })).isError).not.toBe(true);
    await agent.close();
  });
});
