import { describe, expect, it } from 'vitest';
import { startHttpWarden } from '../../helpers/in-process-warden.js';
import { connectHttp } from '../../helpers/mcp-clients.js';

describe('HTTP session idle timeout and calls in flight', () => {
  it('does not close a session as idle while a call is still running; closes it once idle', async () => {
    const warden = await startHttpWarden({ listen: { stdio: false, http: { port: 0, sessionIdleMs: 300 } } });
    try {
      const { client, transport, close } = await connectHttp(warden.url);
      const sessionId = transport.sessionId!;
      // A call that outlives the idle timeout several times over (like one waiting for a human).
      const result = await client.callTool({ name: 'slow_task', arguments: { steps: 4, delayMs: 400 } });
      expect(result).toMatchObject({ content: [{ type: 'text', text: 'done 4 steps' }] });
      // Idle from now on: the session goes.
      const deadline = Date.now() + 5000;
      while (warden.listSessions().some((s) => s.sessionId === sessionId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(warden.listSessions().map((s) => s.sessionId)).not.toContain(sessionId);
      await close();
    } finally {
      await warden.close();
    }
  }, 20_000);
});
