import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema, type Notification } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { collectProgress, until } from '../helpers/progress.js';
import { directAndWarden, type Pair } from '../helpers/direct-and-warden.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { upstreams } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

const capabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } };
const setup = (client: Client) => {
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    model: 'test-model', role: 'assistant' as const,
    content: { type: 'text' as const, text: `echo:${JSON.stringify(req.params.messages[0]?.content)}` },
  }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept' as const, content: { name: 'tester' } }));
};

type Op = (c: Client) => Promise<unknown>;

/**
 * server-everything's dynamic resources say when they were made (to the second): the direct and
 * the proxied read can fall either side of a second boundary, so that part is not compared.
 */
function withoutCreationTime<T>(result: T): T {
  return JSON.parse(JSON.stringify(result).replace(/created at [^"]*"/g, 'created at <time>"')) as T;
}

function both<T>(pair: Pair, fn: (c: Client) => Promise<T>): Promise<[T, T]> {
  return Promise.all([fn(pair.direct.client), fn(pair.warden.client)]);
}

function collect(client: Client, schema: z.ZodType<Notification>): Notification[] {
  const seen: Notification[] = [];
  client.setNotificationHandler(schema as never, (n: Notification) => void seen.push(n));
  return seen;
}


describe('stdio transparency: ACME server direct vs through warden', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await directAndWarden(upstreams.acme(), { capabilities, setup });
  });
  afterAll(() => pair.close());

  it('initialize: same capabilities and instructions, warden server info', () => {
    expect(pair.warden.client.getServerCapabilities()).toEqual(pair.direct.client.getServerCapabilities());
    expect(pair.warden.client.getInstructions()).toEqual(pair.direct.client.getInstructions());
    expect(pair.warden.client.getServerVersion()?.name).toBe('mcp-warden');
  });

  it('lists tools, resources, templates and prompts identically', async () => {
    for (const list of <Op[]>[(c: Client) => c.listTools(), (c: Client) => c.listResources(), (c: Client) => c.listResourceTemplates(), (c: Client) => c.listPrompts()]) {
      const [d, w] = await both(pair, list);
      expect(w).toEqual(d);
    }
  });

  it('calls tools identically, including structured content and tool errors', async () => {
    for (const call of [
      { name: 'echo', arguments: { message: 'hello' } },
      { name: 'list_customers', arguments: { limit: 3 } },
      { name: 'read_file', arguments: { path: '/nope' } },
      { name: 'transfer_funds', arguments: { amount: 10, currency: 'EUR', payee: 'bob' } },
    ]) {
      const [d, w] = await both(pair, (c) => c.callTool(call));
      expect(w).toEqual(d);
    }
  });

  it('answers bad arguments with the same JSON-RPC error code, and unknown tools like hidden ones (-32602)', async () => {
    const errorCode = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: number }) => e.code);
    const [d, w] = await both(pair, (c) => errorCode(c.callTool({ name: 'echo', arguments: { message: 1 } })));
    expect(w).toEqual(d);
    // The one deliberate difference (GUIDE §2, docs/readme/enforcement.md): warden answers a tool
    // the upstream does not list with -32602 itself, exactly as it answers a hidden tool; ACME's
    // own answer is a tool result, which would tell an agent hidden tools from missing ones.
    const [d2, w2] = await both(pair, (c) => c.callTool({ name: 'no_such_tool', arguments: {} }).then((r) => r.isError, (e: { code?: number }) => e.code));
    expect(d2).toBe(true);
    expect(w2).toBe(-32602);
  });

  it('reads resources and templated resources, gets prompts, completes arguments', async () => {
    const ops: Op[] = [
      (c: Client) => c.readResource({ uri: 'acme://files/docs/readme.txt' }),
      (c: Client) => c.readResource({ uri: 'acme://files/docs/payroll.csv' }),
      (c: Client) => c.getPrompt({ name: 'summarize_customer', arguments: { name: 'Customer 7' } }),
      (c: Client) => c.complete({ ref: { type: 'ref/prompt', name: 'summarize_customer' }, argument: { name: 'name', value: 'Customer 1' } }),
      (c: Client) => c.complete({ ref: { type: 'ref/resource', uri: 'acme://files{+path}' }, argument: { name: 'path', value: '/docs/' } }),
      (c: Client) => c.ping(),
    ];
    for (const op of ops) {
      const [d, w] = await both(pair, op);
      expect(w).toEqual(d);
    }
  });

  it('relays progress with the agent own token, and logging after setLevel', async () => {
    const logs = collect(pair.warden.client, LoggingMessageNotificationSchema as never);
    await pair.warden.client.setLoggingLevel('info');
    const seen = collectProgress(pair.warden.client);
    const result = await pair.warden.client.callTool({ name: 'slow_task', arguments: { steps: 3, delayMs: 5 } }, undefined, {
      onprogress: () => undefined, // makes the SDK send a progress token (its request id)
    });
    expect(result.content).toEqual([{ type: 'text', text: 'done 3 steps' }]);
    await until(() => seen.length === 3);
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((p) => p.progressToken)).size).toBe(1);
    expect(typeof seen[0]!.progressToken).toBe('number'); // the agent's own token, not a warden one
    await until(() => logs.length > 0);
    expect(logs[0]!.params).toMatchObject({ level: 'info', logger: 'acme' });
  });

  it('relays resources/updated after subscribe', async () => {
    const updates = collect(pair.warden.client, ResourceUpdatedNotificationSchema as never);
    await pair.warden.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' });
    await pair.warden.client.callTool({ name: 'write_file', arguments: { path: '/docs/readme.txt', content: 'v2' } });
    await until(() => updates.length > 0);
    expect(updates[0]!.params).toEqual({ uri: 'acme://files/docs/readme.txt' });
    await pair.warden.client.unsubscribeResource({ uri: 'acme://files/docs/readme.txt' });
  });

  it('relays a sampling request from the server to the agent and the answer back', async () => {
    const [d, w] = await both(pair, (c) => c.callTool({ name: 'ask_llm', arguments: { question: 'why?' } }));
    expect(w).toEqual(d);
    expect(JSON.stringify(w)).toContain('llm said: echo:');
  });

  it('cancels a hanging call when the agent aborts, and keeps serving', async () => {
    const controller = new AbortController();
    const pending = pair.warden.client.callTool({ name: 'hang', arguments: {} }, undefined, { signal: controller.signal });
    setTimeout(() => controller.abort('user gave up'), 50);
    await expect(pending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    const stats = await pair.warden.client.callTool({ name: 'server_stats', arguments: {} });
    expect(stats.structuredContent).toEqual({ cancelled: 1 }); // the cancel reached the upstream
    const after = await pair.warden.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
    expect(after.content).toEqual([{ type: 'text', text: 'still here' }]);
  });

  it('relays tools/list_changed from the upstream', async () => {
    let changed = 0;
    pair.warden.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    await pair.warden.client.callTool({ name: 'toggle_beta_tools', arguments: { enabled: true } });
    await until(() => changed > 0);
    expect((await pair.warden.client.listTools()).tools.map((t) => t.name)).toContain('beta_report');
    await pair.warden.client.callTool({ name: 'toggle_beta_tools', arguments: { enabled: false } });
    await until(() => changed > 1);
    expect((await pair.warden.client.listTools()).tools.map((t) => t.name)).not.toContain('beta_report');
  });

  it('passes unknown methods through unchanged', async () => {
    const code = (c: Client) => c.request({ method: 'acme/unknown', params: {} }, z.object({})).then(() => 0, (e: { code: number }) => e.code);
    const [d, w] = await both(pair, code);
    expect(w).toBe(d);
    expect(w).toBe(-32601);
  });
});

describe('stdio transparency: server-everything direct vs through warden', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await directAndWarden(upstreams.everything(), { capabilities, setup });
  });
  afterAll(() => pair.close());

  it('initialize and every list match (except the tasks capability, which warden does not offer)', async () => {
    const { tasks, ...withoutTasks } = pair.direct.client.getServerCapabilities() ?? {};
    expect(tasks).toMatchObject({ requests: { tools: { call: {} } } });
    expect(pair.warden.client.getServerCapabilities()).toEqual(withoutTasks);
    for (const list of <Op[]>[(c: Client) => c.listTools(), (c: Client) => c.listResources(), (c: Client) => c.listResourceTemplates(), (c: Client) => c.listPrompts()]) {
      const [d, w] = await both(pair, list);
      expect(w).toEqual(d);
    }
  });

  it('tools, resources, prompts and completion match', async () => {
    const ops: Op[] = [
      (c: Client) => c.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }),
      (c: Client) => c.callTool({ name: 'echo', arguments: { message: 'through warden' } }),
      (c: Client) => c.callTool({ name: 'get-tiny-image', arguments: {} }),
      (c: Client) => c.readResource({ uri: 'demo://resource/dynamic/text/1' }).then(withoutCreationTime),
      (c: Client) => c.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'IDF' } }),
      (c: Client) => c.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'E' } }),
    ];
    for (const op of ops) {
      const [d, w] = await both(pair, op);
      expect(w).toEqual(d);
    }
  });

  it('relays resources/updated for a subscribed resource as directly (updates are relayed only for what the session holds)', async () => {
    const uri = 'demo://resource/dynamic/text/1';
    const direct = collect(pair.direct.client, ResourceUpdatedNotificationSchema as never);
    const proxied = collect(pair.warden.client, ResourceUpdatedNotificationSchema as never);
    const [d, w] = await both(pair, (c) => c.subscribeResource({ uri }));
    expect(w).toEqual(d);
    // Starts the server's updates for this session's subscriptions (one at once, then every 5 s).
    await both(pair, (c) => c.callTool({ name: 'toggle-subscriber-updates', arguments: {} }));
    await until(() => direct.length > 0 && proxied.length > 0);
    expect(proxied[0]!.params).toEqual(direct[0]!.params);
    expect(proxied[0]!.params).toEqual({ uri });
    await both(pair, (c) => c.callTool({ name: 'toggle-subscriber-updates', arguments: {} }));
    await both(pair, (c) => c.unsubscribeResource({ uri }));
  });

  it('relays roots, sampling and elicitation requests to the agent', async () => {
    for (const name of ['get-roots-list', 'trigger-sampling-request', 'trigger-elicitation-request']) {
      const args = name === 'trigger-sampling-request' ? { prompt: 'hi', maxTokens: 10 } : {};
      const [d, w] = await both(pair, (c) => c.callTool({ name, arguments: args }));
      expect(w).toEqual(d);
    }
  });

  it('does not offer MCP tasks: a task-augmented call and every tasks/* request are refused, never forwarded (a tool result fetched past the guard)', async () => {
    const taskCall = { method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'payroll' }, task: { ttl: 60_000 } } };
    // Directly, the call returns a handle and the report comes later through tasks/result, a
    // request the guard never judged nor audited as the call's result.
    const handle = (await pair.direct.client.request(taskCall, z.object({ task: z.object({ taskId: z.string() }) }).loose())).task;
    expect(handle.taskId).toEqual(expect.any(String));
    await expect(pair.warden.client.request(taskCall, z.unknown())).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('does not offer MCP tasks') });
    for (const [method, params] of [
      ['tasks/result', { taskId: handle.taskId }],
      ['tasks/get', { taskId: handle.taskId }],
      ['tasks/cancel', { taskId: handle.taskId }],
      ['tasks/list', {}],
    ] as const) {
      await expect(pair.warden.client.request({ method, params }, z.unknown())).rejects.toMatchObject({ code: -32601, message: expect.stringContaining('does not offer MCP tasks') });
    }
    // A look-alike of a refused method does not reach a lenient server either.
    await expect(pair.warden.client.request({ method: 'Tasks/List', params: {} }, z.unknown())).rejects.toMatchObject({ code: -32601 });
    // Warden still serves the session.
    expect(await pair.warden.client.callTool({ name: 'echo', arguments: { message: 'still here' } })).toMatchObject({ content: [{ type: 'text' }] });
  });

  it('relays progress of a long-running operation', async () => {
    const seen = collectProgress(pair.warden.client);
    await pair.warden.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, {
      onprogress: () => undefined,
    });
    await until(() => seen.length === 3);
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
  });
});

describe('stdio transparency: server-filesystem direct vs through warden', () => {
  const root = tempDir('warden-fs-');
  writeFileSync(join(root, 'a.txt'), 'alpha');
  let pair: Pair;
  beforeAll(async () => {
    // No roots capability: the server would otherwise swap its allowed directory for the client's
    // roots at a moment that depends on timing.
    pair = await directAndWarden(upstreams.filesystem(root), { capabilities: {} });
  });
  afterAll(() => pair.close());

  it('lists and calls identically', async () => {
    expect(pair.warden.client.getServerCapabilities()).toEqual(pair.direct.client.getServerCapabilities());
    const ops: Op[] = [
      (c) => c.listTools(),
      (c) => c.callTool({ name: 'read_text_file', arguments: { path: join(root, 'a.txt') } }),
      (c) => c.callTool({ name: 'list_directory', arguments: { path: root } }),
      (c) => c.callTool({ name: 'read_text_file', arguments: { path: '/etc/passwd' } }),
    ];
    for (const op of ops) {
      const [d, w] = await both(pair, op);
      expect(w).toEqual(d);
    }
  });
});
