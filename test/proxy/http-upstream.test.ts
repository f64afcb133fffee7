import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpWarden, startStdioWardenWithClient } from '../helpers/in-process-warden.js';
import { connectStdio } from '../helpers/mcp-clients.js';
import { upstreams } from '../helpers/paths.js';
import { collectProgress, until } from '../helpers/progress.js';

/**
 * A Streamable HTTP upstream: warden B (stdio, in-process) talks over HTTP to warden A, which
 * serves the ACME server. Proves the HTTP client side, and that it does not leak abort listeners.
 */
describe('Streamable HTTP upstream', () => {
  let front: Awaited<ReturnType<typeof startHttpWarden>>;
  let viaHttp: Awaited<ReturnType<typeof startStdioWardenWithClient>>;
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
  beforeAll(async () => {
    process.on('warning', onWarning);
    front = await startHttpWarden();
    viaHttp = await startStdioWardenWithClient({ upstreams: { remote: { url: front.url, headers: { 'x-tenant': 'acme' } } } });
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await viaHttp.close();
    await front.close();
  });

  it('lists and calls the same as a direct stdio connection', async () => {
    const direct = await connectStdio(upstreams.acme().command, upstreams.acme().args);
    try {
      expect(await viaHttp.client.listTools()).toEqual(await direct.client.listTools());
      const call = { name: 'transfer_funds', arguments: { amount: 5, currency: 'EUR', payee: 'carol' } };
      expect(await viaHttp.client.callTool(call)).toEqual(await direct.client.callTool(call));
      const progress = collectProgress(viaHttp.client);
      await viaHttp.client.callTool({ name: 'slow_task', arguments: { steps: 2, delayMs: 5 } }, undefined, { onprogress: () => undefined });
      await until(() => progress.length === 2);
      expect(progress.map((p) => p.progress)).toEqual([1, 2]);
    } finally {
      await direct.close();
    }
  });

  it('serves 200 calls with 32 in flight without MaxListenersExceededWarning', async () => {
    for (let batch = 0; batch < 200 / 32; batch++) {
      const calls = Array.from({ length: 32 }, (_, i) => viaHttp.client.callTool({ name: 'echo', arguments: { message: `m${batch}-${i}` } }).then(async (r) => (await viaHttp.client.callTool({ name: 'slow_task', arguments: { steps: 1, delayMs: 50 } }), r)));
      const results = await Promise.all(calls);
      results.forEach((r, i) => expect(r.content).toEqual([{ type: 'text', text: `m${batch}-${i}` }]));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([]);
  });
});
