import { afterEach, describe, expect, it } from 'vitest';
import { upstreamInitializeParams, withoutTasks } from '../../src/proxy/unsupported-tasks.js';
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

  it('answers an upstream\'s tasks/list and tasks/result to the agent with -32601, never relayed (one upstream reading the tasks another created)', async () => {
    const a = await agentWithTasks();
    const lines = [
      '{"jsonrpc":"2.0","id":"peek-1","method":"tasks/list","params":{}}',
      '{"jsonrpc":"2.0","id":"peek-2","method":"tasks/result","params":{"taskId":"other-upstreams-task"}}',
    ];
    expect(text(await a.request('tools/call', { name: 'two__emit', arguments: { lines } }))).toBe('emitted');
    const answersSeen = async (): Promise<Message[]> =>
      (JSON.parse(text(await a.request('tools/call', { name: 'two__seen', arguments: {} }))) as Message[]).filter((m) => m.id === 'peek-1' || m.id === 'peek-2');
    let answers: Message[] = [];
    for (let i = 0; i < 100 && answers.length < 2; i++) {
      answers = await answersSeen();
      if (answers.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    expect(answers).toHaveLength(2);
    for (const answer of answers) expect(answer.error).toMatchObject({ code: -32601 });
    expect((a.lines as Message[]).filter((m) => typeof m.method === 'string' && m.method.startsWith('tasks/'))).toEqual([]);
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
