import { describe, expect, it } from 'vitest';
import { connectHttp } from '../helpers/mcp-clients.js';
import { transparentGuardrails, upstreams } from '../helpers/paths.js';
import { spawnWardenHttp } from '../helpers/warden-process.js';

describe('warden run over Streamable HTTP (process)', () => {
  it('serves several concurrent agent sessions and stops cleanly on SIGTERM', async () => {
    const warden = await spawnWardenHttp({ dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, ...transparentGuardrails() });
    try {
      const [a, b] = await Promise.all([connectHttp(warden.url), connectHttp(warden.url)]);
      const [ra, rb] = await Promise.all([
        a.client.callTool({ name: 'echo', arguments: { message: 'from a' } }),
        b.client.callTool({ name: 'echo', arguments: { message: 'from b' } }),
      ]);
      expect(ra.content).toEqual([{ type: 'text', text: 'from a' }]);
      expect(rb.content).toEqual([{ type: 'text', text: 'from b' }]);
      await a.close();
      await b.close();
    } finally {
      expect(await warden.stop()).toBe(0);
    }
    // Logs went to stderr as JSON and name the shutdown.
    expect(warden.stderr.some((l) => l.includes('"msg":"warden stopped"'))).toBe(true);
  });

  it('resolves ${VAR} in HTTP upstream headers from the environment at start-up', async () => {
    const front = await spawnWardenHttp({ dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, ...transparentGuardrails() });
    const back = await spawnWardenHttp(
      { dangerouslyAllowAnonymous: true, upstreams: { remote: { url: front.url, headers: { 'x-api-key': '${ACME_KEY}' } } }, ...transparentGuardrails() },
      { ACME_KEY: 'k-123' },
    );
    try {
      const client = await connectHttp(back.url);
      const r = await client.client.callTool({ name: 'echo', arguments: { message: 'two hops' } });
      expect(r.content).toEqual([{ type: 'text', text: 'two hops' }]);
      await client.close();
    } finally {
      await back.stop();
      await front.stop();
    }
  });
});
