import { afterEach, describe, expect, it } from 'vitest';
import type { Guard, ToolCallRequest } from '../../src/core/tool-call.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const failing = { command: process.execPath, args: ['-e', 'process.exit(1)'] };

describe('a session whose initialize did not succeed', () => {
  it('forwards no call after one upstream failed to start (the session never opened: no session.opened, not listed)', async () => {
    const judged: ToolCallRequest[] = [];
    const opened: string[] = [];
    const guard: Guard = { checkToolCall: (req) => (judged.push(req), { kind: 'forward' }), onSessionOpened: (info) => void opened.push(info.sessionId) };
    const a = await rawAgent({ upstreams: { good: hostileUpstream(), bad: failing } }, { guard });
    closers.push(a.close);
    expect((await a.init()).error).toMatchObject({ code: -32603 });
    const call = await a.request('tools/call', { name: 'good__echo', arguments: {} });
    expect(call.error).toMatchObject({ code: -32600 });
    const list = await a.request('tools/list', {});
    expect(list.error).toMatchObject({ code: -32600 });
    expect(judged).toEqual([]);
    expect(opened).toEqual([]);
    expect(a.handle.listSessions()).toEqual([]);
    expect(await a.alive()).toBe(true); // ping is still answered
  });

  it('answers requests sent before initialize with -32600 and forwards nothing', async () => {
    const judged: ToolCallRequest[] = [];
    const a = await rawAgent({ upstreams: { good: hostileUpstream() } }, { guard: { checkToolCall: (req) => (judged.push(req), { kind: 'forward' }) } });
    closers.push(a.close);
    expect((await a.request('tools/call', { name: 'echo', arguments: {} })).error).toMatchObject({ code: -32600 });
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('tools/call', { name: 'echo', arguments: {} })).toHaveProperty('result');
    expect(judged).toHaveLength(1);
  });
});
