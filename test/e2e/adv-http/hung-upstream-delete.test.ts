import { describe, expect, it } from 'vitest';
import { startFlakyStreamServer, startWardenBefore } from '../../helpers/http-notify-upstream.js';
import { connectHttp } from '../../helpers/mcp-clients.js';
import { until } from '../../helpers/progress.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * Ending a session ends its HTTP upstream sessions with a DELETE. An upstream that accepts the
 * DELETE and never answers (hung, or hostile) must not hold the agent's session, or warden's
 * stop, for the HTTP client's own timeout (about five minutes): the stdio children get 2 s
 * before SIGTERM, an HTTP upstream gets as long for its DELETE.
 */
const closers = closedAfterEach();

async function setUp() {
  const server = await startFlakyStreamServer({ FLAKY_DELETE_HANG: '1' });
  closers.push(server.stop);
  const warden = await startWardenBefore(server.url);
  const agent = await connectHttp(warden.url);
  await agent.client.listTools();
  return { server, warden, agent };
}

describe('an HTTP upstream that never answers the DELETE ending its session', () => {
  it('does not hold warden\'s stop for minutes (hung upstream DELETE)', async () => {
    const { server, warden, agent } = await setUp();
    closers.push(agent.close);
    const started = Date.now();
    await warden.close();
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(server.requests().filter((r) => r.method === 'DELETE')).toHaveLength(1);
  }, 20_000);

  it('does not keep the agent\'s ended session open (hung upstream DELETE after the agent\'s DELETE)', async () => {
    const { server, warden, agent } = await setUp();
    closers.push(warden.close);
    await agent.transport.terminateSession();
    await until(() => server.requests().some((r) => r.method === 'DELETE'));
    await until(() => warden.sessions() === 0, 6_000);
  }, 20_000);
});
