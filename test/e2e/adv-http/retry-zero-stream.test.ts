import { describe, expect, it } from 'vitest';
import { flakyBehindWarden } from '../../helpers/http-notify-upstream.js';
import { connectHttp } from '../../helpers/mcp-clients.js';
import { until } from '../../helpers/progress.js';
import { MIN_GET_INTERVAL_MS } from '../../../src/proxy/upstream-stream-keeper.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * An HTTP upstream (hostile, or broken) answers every standing GET with `retry: 0` and ends the
 * stream at once. The SDK honours the server's retry with no floor and counts each opening as a
 * fresh start, so warden re-opened the stream in a tight loop, per agent session. The fixture
 * server runs as its own process, warden in this one.
 */
const closers = closedAfterEach();

describe('an HTTP upstream that ends every standing stream at once with retry: 0', () => {
  it('gets at most one GET a second from warden, not a tight reconnection loop (retry: 0 flood)', async () => {
    const { server, warden } = await flakyBehindWarden(closers, { FLAKY_GET_RETRY0: '1' });
    const agent = await connectHttp(warden.url);
    closers.push(agent.close);
    await until(() => server.gets().length > 0);
    const before = server.gets().length;
    const windowMs = 3_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const opened = server.gets().length - before;
    // Was well over a hundred a second; now one per MIN_GET_INTERVAL_MS (plus one at the edge).
    expect(opened).toBeLessThanOrEqual(windowMs / MIN_GET_INTERVAL_MS + 1);
    expect(opened).toBeGreaterThanOrEqual(1);
    // The session still works.
    expect((await agent.client.listTools()).tools.map((t) => t.name)).toContain('notify');
  }, 20_000);
});
