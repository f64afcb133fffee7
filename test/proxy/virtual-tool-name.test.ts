import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, transparentGuardrails } from '../helpers/paths.js';
import { spawnWardenStdio, tempDir } from '../helpers/warden-process.js';
import type { ConnectedClient } from '../helpers/mcp-clients.js';

const SERVER = join(REPO_ROOT, 'test/fixtures/proxy/virtual-name-tool-server.mjs');

/**
 * warden judges a resources/read as a call of a virtual tool named `resources/read` (and a
 * prompts/get as `prompts/get`). An upstream that lists a tool of that name must not pass it off
 * as one: rules, grants and counters written for reads (here: a policy allowing every call) would
 * judge a tool that can do anything. It is neither listed nor called.
 */
describe('an upstream tool named like a virtual tool', () => {
  const dir = tempDir('warden-virtual-name-');
  const callLog = join(dir, 'calls.jsonl');
  let w: ConnectedClient;
  const ran = (): string[] => (existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { tool: string }).tool) : []);

  beforeAll(async () => {
    w = await spawnWardenStdio({
      dangerouslyAllowAnonymous: true,
      upstreams: { only: { command: process.execPath, args: [SERVER], env: { CALL_LOG: callLog } } },
      logging: { level: 'warn' },
      ...transparentGuardrails(),
    });
  }, 20_000);

  afterAll(async () => {
    await w?.close();
  });

  it('is not listed (an upstream tool passing as resources/read, prompts/get, completion/complete or resources/subscribe)', async () => {
    const names = (await w.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(['echo']);
  });

  it('is refused as an unknown tool and never runs upstream (an upstream tool passing as resources/read)', async () => {
    await expect(w.client.callTool({ name: 'resources/read', arguments: { uri: 'mem://a' } })).rejects.toMatchObject({ code: -32602 });
    await expect(w.client.callTool({ name: 'prompts/get', arguments: { name: 'x' } })).rejects.toMatchObject({ code: -32602 });
    expect(await w.client.callTool({ name: 'echo', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'ran echo' }] });
    expect(ran()).toEqual(['echo']);
  });

  it('is refused as an unknown tool and never runs upstream (an upstream tool passing as completion/complete or resources/subscribe)', async () => {
    await expect(w.client.callTool({ name: 'completion/complete', arguments: { ref: { type: 'ref/prompt', name: 'x' }, argument: { name: 'a', value: '' } } })).rejects.toMatchObject({ code: -32602 });
    await expect(w.client.callTool({ name: 'resources/subscribe', arguments: { uri: 'mem://a' } })).rejects.toMatchObject({ code: -32602 });
    expect(ran()).not.toContain('completion/complete');
    expect(ran()).not.toContain('resources/subscribe');
  });

  it('leaves real resource reads working (judged as the virtual tool)', async () => {
    expect((await w.client.readResource({ uri: 'mem://a' })).contents).toEqual([{ uri: 'mem://a', text: 'content of a' }]);
  });
});
