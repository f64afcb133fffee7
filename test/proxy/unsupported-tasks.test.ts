import { afterEach, describe, expect, it } from 'vitest';
import { upstreamInitializeParams, withoutTaskAugmentation, withoutTasks } from '../../src/proxy/unsupported-tasks.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';
import { until } from '../helpers/progress.js';

/**
 * MCP tasks are not offered through warden, in either direction (src/proxy/unsupported-tasks.ts).
 * The agent→upstream direction, against the published server-everything, is in
 * stdio-transparency.test.ts; this is the upstream→agent one.
 */
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

type Message = Record<string, unknown>;
const text = (answer: Message): string => ((answer.result as { content: Array<{ text: string }> }).content[0]!.text);

async function agentWithTasks() {
  const a = await rawAgent({ upstreams: { one: hostileUpstream(), two: hostileUpstream() } });
  closers.push(a.close);
  const capabilities = { sampling: {}, tasks: { list: {}, cancel: {}, requests: { sampling: { createMessage: {} } } } };
  expect(await a.request('initialize', { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'tasks-agent', version: '1' } })).toHaveProperty('result');
  a.fire('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  return a;
}

describe('the agent\'s tasks are not offered to upstreams', () => {
  it('passes the agent\'s capabilities on without tasks (one upstream must not learn it can create tasks at the agent)', async () => {
    const a = await agentWithTasks();
    const params = JSON.parse(text(await a.request('tools/call', { name: 'one__init_params', arguments: {} }))) as { capabilities: Record<string, unknown> };
    expect(params.capabilities).toEqual({ sampling: {} });
  });

  it('answers an upstream\'s tasks/list and tasks/result to the agent (and look-alikes of them) with -32601, never relayed (one upstream reading the tasks another created)', async () => {
    const a = await agentWithTasks();
    const lines = [
      '{"jsonrpc":"2.0","id":"peek-1","method":"tasks/list","params":{}}',
      '{"jsonrpc":"2.0","id":"peek-2","method":"tasks/result","params":{"taskId":"other-upstreams-task"}}',
      // Look-alikes a lenient client would answer as tasks/list and tasks/result.
      '{"jsonrpc":"2.0","id":"peek-3","method":"Tasks/List","params":{}}',
      '{"jsonrpc":"2.0","id":"peek-4","method":"tasks/result\\u0000","params":{"taskId":"other-upstreams-task"}}',
    ];
    expect(text(await a.request('tools/call', { name: 'two__emit', arguments: { lines } }))).toBe('emitted');
    const answersSeen = async (): Promise<Message[]> =>
      (JSON.parse(text(await a.request('tools/call', { name: 'two__seen', arguments: {} }))) as Message[]).filter((m) => typeof m.id === 'string' && m.id.startsWith('peek-'));
    let answers: Message[] = [];
    for (let i = 0; i < 100 && answers.length < 4; i++) {
      answers = await answersSeen();
      if (answers.length < 4) await new Promise((r) => setTimeout(r, 50));
    }
    expect(answers).toHaveLength(4);
    for (const answer of answers) expect(answer.error).toMatchObject({ code: -32601 });
    expect((a.lines as Message[]).filter((m) => typeof m.method === 'string' && m.method.toLowerCase().startsWith('tasks/'))).toEqual([]);
    // Other server requests still reach the agent.
    expect(text(await a.request('tools/call', { name: 'two__emit', arguments: { lines: ['{"jsonrpc":"2.0","id":"ask","method":"roots/list","params":{}}'] } }))).toBe('emitted');
    await until(() => (a.lines as Message[]).some((m) => m.method === 'roots/list'));
  });
});

describe('withoutTasks / upstreamInitializeParams', () => {
  it('drops tasks only, keeps a "__proto__" key as data, and returns what has no tasks as it is', () => {
    const caps = JSON.parse('{"tasks":{},"__proto__":{"polluted":true},"roots":{}}') as Record<string, unknown>;
    const out = withoutTasks(caps);
    expect(Object.keys(out)).toEqual(['__proto__', 'roots']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const plain = { roots: {} };
    expect(withoutTasks(plain)).toBe(plain);
    const params = { protocolVersion: '2025-11-25', capabilities: plain };
    expect(upstreamInitializeParams(params)).toBe(params);
    expect(upstreamInitializeParams({ capabilities: 'odd' })).toEqual({ capabilities: 'odd' });
  });
});

describe('an upstream that asks the agent for a task all the same', () => {
  it('has its task-augmented sampling request relayed without `task` (the agent creates no task one upstream could own)', async () => {
    const a = await agentWithTasks();
    const line = '{"jsonrpc":"2.0","id":"s1","method":"sampling/createMessage","params":{"task":{"ttl":60000},"messages":[],"maxTokens":1,"_meta":{"k":1}}}';
    expect(text(await a.request('tools/call', { name: 'one__emit', arguments: { lines: [line] } }))).toBe('emitted');
    await until(() => (a.lines as Message[]).some((m) => m.method === 'sampling/createMessage'));
    const relayed = (a.lines as Message[]).find((m) => m.method === 'sampling/createMessage')!;
    expect(relayed.params).toEqual({ messages: [], maxTokens: 1, _meta: { k: 1 } });
  });

  it('never hears the agent\'s notifications/tasks/status (nor does any other upstream: they would learn of each other\'s tasks)', async () => {
    const a = await agentWithTasks();
    a.fire('{"jsonrpc":"2.0","method":"notifications/tasks/status","params":{"taskId":"t-of-one","status":"completed","statusMessage":"exported 10,000 rows"}}');
    a.fire('{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}');
    for (const upstream of ['one', 'two']) {
      let seen: Message[] = [];
      for (let i = 0; i < 100 && !seen.some((m) => m.method === 'notifications/roots/list_changed'); i++) {
        seen = JSON.parse(text(await a.request('tools/call', { name: `${upstream}__seen`, arguments: {} }))) as Message[];
        if (!seen.some((m) => m.method === 'notifications/roots/list_changed')) await new Promise((r) => setTimeout(r, 20));
      }
      // Sent after the task notification, so that one was dropped, not still on its way.
      expect(seen.some((m) => m.method === 'notifications/roots/list_changed')).toBe(true);
      expect(seen.filter((m) => String(m.method).startsWith('notifications/tasks/'))).toEqual([]);
    }
  });
});

describe('withoutTaskAugmentation', () => {
  it('drops task only, keeps a "__proto__" key as data, and returns a request without task as it is', () => {
    const request = JSON.parse('{"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{"task":{},"__proto__":{"x":1},"message":"m"}}') as { params: Record<string, unknown> };
    const out = withoutTaskAugmentation(request);
    expect(Object.keys(out.params)).toEqual(['__proto__', 'message']);
    expect(Object.getPrototypeOf(out.params)).toBe(Object.prototype);
    const plain = { jsonrpc: '2.0', id: 2, method: 'roots/list', params: { a: 1 } };
    expect(withoutTaskAugmentation(plain)).toBe(plain);
  });
});
