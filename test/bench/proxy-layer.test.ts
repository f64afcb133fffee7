import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { connectStdio } from '../helpers/mcp-clients.js';
import { ACME_SERVER, REPO_ROOT } from '../helpers/paths.js';

const LAYER = resolve(REPO_ROOT, 'dist/bench/fixtures/proxy-layer.js');

// The proxy bench reports this fixture as "warden's proxy layer alone": it must really be warden's
// proxy (its own server info, the upstream's tools) and forward calls, or the figure means nothing.
it('the proxy-layer bench fixture is warden proxying a real upstream', async () => {
  const { client, close } = await connectStdio(process.execPath, [LAYER, process.execPath, ACME_SERVER]);
  try {
    expect(client.getServerVersion()?.name).toBe('mcp-warden');
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'ping' } });
    expect(result.isError).not.toBe(true);
    expect(JSON.stringify(result.content)).toContain('ping');
  } finally {
    await close();
  }
});
