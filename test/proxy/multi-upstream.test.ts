import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { startStdioWardenWithClient } from '../helpers/in-process-warden.js';
import { connectStdio } from '../helpers/mcp-clients.js';
import { upstreams } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

async function allTools(client: Client): Promise<Tool[]> {
  const out: Tool[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    out.push(...page.tools);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined && pages < 20);
  return out;
}

describe('several upstreams: namespacing, routing, composite cursors', () => {
  const root = tempDir('warden-fs-');
  writeFileSync(join(root, 'notes.txt'), 'filesystem notes');
  const seen: ToolCallRequest[] = [];
  let started: Awaited<ReturnType<typeof startStdioWardenWithClient>>;
  beforeAll(async () => {
    started = await startStdioWardenWithClient(
      { upstreams: { acme: upstreams.acme(), fs: upstreams.filesystem(root), paged: upstreams.paged(), everything: upstreams.everything() } },
      { guard: { checkToolCall: async (req) => (seen.push(req), { kind: 'forward' }) } },
    );
  });
  afterAll(() => started.close());

  it('lists every upstream tool exactly once, namespaced, across composite-cursor pages', async () => {
    const tools = await allTools(started.client);
    const names = tools.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of ['acme__echo', 'acme__transfer_funds', 'fs__read_text_file', 'everything__get-sum', 'paged__alpha', 'paged__echo']) {
      expect(names).toContain(name);
    }
    expect(names.filter((n) => n.startsWith('paged__'))).toEqual(['paged__alpha', 'paged__bravo', 'paged__charlie', 'paged__delta', 'paged__echo']);
    // Each upstream's definitions are untouched apart from the name.
    const direct = await connectStdio(upstreams.acme().command, upstreams.acme().args);
    const acmeDirect = (await direct.client.listTools()).tools;
    await direct.close();
    expect(tools.filter((t) => t.name.startsWith('acme__')).map((t) => ({ ...t, name: t.name.slice(6) }))).toEqual(acmeDirect);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
  });

  it('routes each call to its upstream with the original name restored', async () => {
    const fs = await started.client.callTool({ name: 'fs__read_text_file', arguments: { path: join(root, 'notes.txt') } });
    expect(JSON.stringify(fs.content)).toContain('filesystem notes');
    const sum = await started.client.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2 } });
    expect(JSON.stringify(sum.content)).toContain('3');
    const echo = await started.client.callTool({ name: 'paged__echo', arguments: {} });
    expect(echo.content).toEqual([{ type: 'text', text: 'paged:echo' }]);
    const acme = await started.client.callTool({ name: 'acme__echo', arguments: { message: 'hi' } });
    expect(acme.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(seen.map((s) => [s.upstream, s.tool, s.exposedName])).toContainEqual(['paged', 'echo', 'paged__echo']);
    expect(seen.map((s) => [s.upstream, s.tool])).toContainEqual(['acme', 'echo']);
  });

  it('answers an unknown namespaced tool with -32602 and never calls the guard', async () => {
    const before = seen.length;
    await expect(started.client.callTool({ name: 'nope__echo', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    await expect(started.client.callTool({ name: 'echo', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    expect(seen.length).toBe(before);
  });

  it('namespaces prompts and templates, keeps resource URIs, and routes reads', async () => {
    const prompts = (await started.client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toContain('acme__summarize_customer');
    expect(prompts).toContain('everything__args-prompt');
    const prompt = await started.client.getPrompt({ name: 'acme__summarize_customer', arguments: { name: 'Customer 2' } });
    expect(JSON.stringify(prompt.messages)).toContain('Customer 2');
    const templates = (await started.client.listResourceTemplates()).resourceTemplates;
    expect(templates.map((t) => t.uriTemplate)).toContain('acme://files{+path}');
    expect(templates.map((t) => t.name)).toContain('acme__file');
    let cursor: string | undefined;
    const uris: string[] = [];
    do {
      const page = await started.client.listResources(cursor === undefined ? {} : { cursor });
      uris.push(...page.resources.map((r) => r.uri));
      cursor = page.nextCursor;
    } while (cursor);
    expect(uris).toContain('paged://item/3');
    expect(uris).toContain('acme://files/docs/readme.txt');
    const paged = await started.client.readResource({ uri: 'paged://item/3' });
    expect(paged.contents[0]).toMatchObject({ text: 'content of paged://item/3' });
    const templated = await started.client.readResource({ uri: 'acme://files/docs/payroll.csv' });
    expect(JSON.stringify(templated.contents)).toContain('alice');
    const dynamic = await started.client.readResource({ uri: 'demo://resource/dynamic/text/5' });
    expect(dynamic.contents[0]!.uri).toBe('demo://resource/dynamic/text/5');
  });

  it('completes namespaced prompt arguments and broadcasts logging/setLevel', async () => {
    const done = await started.client.complete({ ref: { type: 'ref/prompt', name: 'acme__summarize_customer' }, argument: { name: 'name', value: 'Customer 9' } });
    expect(done.completion.values[0]).toBe('Customer 9');
    // Judged as the virtual tool completion/complete, with the prompt name the upstream sees: a
    // rule about acme's summarize_customer cannot be dodged by the namespaced spelling.
    expect(seen.filter((r) => r.action === 'completion/complete').map((r) => [r.upstream, r.tool, r.arguments])).toEqual([
      ['acme', 'completion/complete', { ref: { type: 'ref/prompt', name: 'summarize_customer' }, argument: { name: 'name', value: 'Customer 9' } }],
    ]);
    await expect(started.client.setLoggingLevel('debug')).resolves.toEqual({});
  });

  it('merges capabilities from every upstream', () => {
    const caps = started.client.getServerCapabilities()!;
    expect(caps.tools).toBeDefined();
    expect(caps.prompts).toBeDefined();
    expect(caps.resources).toMatchObject({ subscribe: true });
    expect(caps.logging).toBeDefined();
    // server-everything offers tasks; warden does not (src/proxy/unsupported-tasks.ts).
    expect(caps).not.toHaveProperty('tasks');
  });

  it('rejects a forged cursor with -32602', async () => {
    await expect(started.client.listTools({ cursor: Buffer.from('{"evil":"1"}').toString('base64url') })).rejects.toMatchObject({ code: -32602 });
    await expect(started.client.listTools({ cursor: 'garbage' })).rejects.toMatchObject({ code: -32602 });
  });
});

describe('several upstreams over Streamable HTTP', () => {
  it('namespaces and routes per HTTP session', async () => {
    const { startHttpWarden } = await import('../helpers/in-process-warden.js');
    const { connectHttp } = await import('../helpers/mcp-clients.js');
    const warden = await startHttpWarden({ upstreams: { acme: upstreams.acme(), paged: upstreams.paged() } });
    const client = await connectHttp(warden.url);
    try {
      const names = (await allTools(client.client)).map((t) => t.name);
      expect(names).toContain('acme__transfer_funds');
      expect(names).toContain('paged__echo');
      const r = await client.client.callTool({ name: 'paged__charlie', arguments: {} });
      expect(r.content).toEqual([{ type: 'text', text: 'paged:charlie' }]);
    } finally {
      await client.close();
      await warden.close();
    }
  });
});
