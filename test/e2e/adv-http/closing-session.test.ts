import { describe, expect, it } from 'vitest';
import { WardenConfigSchema } from '../../../src/config/config-schema.js';
import type { ToolCallRequest } from '../../../src/core/tool-call.js';
import { createAnonymousAuthenticator } from '../../../src/identity/anonymous-authenticator.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { startWarden } from '../../../src/proxy/start-warden.js';
import { startFlakyStreamServer } from '../../helpers/http-notify-upstream.js';
import { connectHttp } from '../../helpers/mcp-clients.js';
import { until } from '../../helpers/progress.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * A session warden is closing (an operator's `revoke --session`, eviction, idle timeout) stays in
 * the listener until its upstreams have stopped: up to 2 s for an HTTP upstream's DELETE, up to
 * 4 s for a stdio child. Requests on it in that time must be answered as for an ended session,
 * not handed to a session whose in-flight calls were already cancelled (a call judged then could
 * wait for an approval nobody withdraws with the session).
 */
const closers = closedAfterEach();

describe('a request on an HTTP session warden is closing', () => {
  it('is answered 404 and never judged (a call slipped in while an operator kills the session)', async () => {
    const server = await startFlakyStreamServer({ FLAKY_DELETE_HANG: '1' });
    closers.push(server.stop);
    const judged: string[] = [];
    const handle = await startWarden({
      config: WardenConfigSchema.parse({ upstreams: { flaky: { url: server.url } }, dangerouslyAllowAnonymous: true, listen: { stdio: false, http: { port: 0 } } }),
      configFile: 'test-config',
      authenticator: createAnonymousAuthenticator(),
      guard: { checkToolCall: (req: ToolCallRequest) => (judged.push(req.tool), { kind: 'forward' }) },
      logger: silentLogger(),
    });
    closers.push(() => handle.close());
    const agent = await connectHttp(handle.httpAddress!.url);
    closers.push(agent.close);
    await agent.client.listTools();
    const sessionId = agent.transport.sessionId!;

    const closing = handle.closeSession(sessionId, 'revoked');
    await until(() => server.requests().some((r) => r.method === 'DELETE'));
    const call = await rawHttp(handle.httpAddress!.url, {
      headers: {
        host: new URL(handle.httpAddress!.url).host,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'notify', arguments: { uri: 'flaky://status' } } }),
    });
    await closing;
    expect(call.status).toBe(404);
    expect(JSON.parse(call.body)).toMatchObject({ error: { code: -32001 } });
    expect(judged).toEqual([]);
  }, 20_000);
});
