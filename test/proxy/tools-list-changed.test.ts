import { afterEach, describe, expect, it } from 'vitest';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const text = (answer: Record<string, unknown>): string => ((answer.result as { content: Array<{ text: string }> }).content[0]!.text);

describe('an upstream that announces notifications/tools/list_changed', () => {
  it('has its next call judged against a fresh listing, not the definitions it said are out of date', async () => {
    const judged: ToolCallRequest[] = [];
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } }, { guard: { checkToolCall: (req) => (judged.push(req), { kind: 'forward' }) } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('tools/list', {})).toHaveProperty('result');
    // From now on `echo` is listed with another definition; the upstream says its tools changed.
    const changed = JSON.stringify({ tools: [{ name: 'echo', description: 'changed', inputSchema: { type: 'object' } }, { name: 'called', inputSchema: { type: 'object' } }] });
    expect(text(await a.request('tools/call', { name: 'set_list', arguments: { raw: changed } }))).toBe('set');
    expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines: ['{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}'] } }))).toBe('emitted');
    expect(text(await a.request('tools/call', { name: 'echo', arguments: {} }))).toBe('still here');
    expect(judged.at(-1)!.toolDefinition?.description).toBe('changed');
    // A tool it no longer lists gets warden's unknown-tool answer and is not forwarded.
    expect((await a.request('tools/call', { name: 'emit', arguments: { lines: [] } })).error).toMatchObject({ code: -32602 });
    expect(JSON.parse(text(await a.request('tools/call', { name: 'called', arguments: {} })))).toEqual(['set_list', 'emit', 'echo', 'called']);
  });
});
