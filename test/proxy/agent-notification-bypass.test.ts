import { afterEach, describe, expect, it } from 'vitest';
import type { Guard } from '../../src/core/tool-call.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/** Forwards only `seen` (the fixture's record of what it received); blocks every other call. */
const onlySeen: Guard = {
  checkToolCall: (req) =>
    req.tool === 'seen' ? { kind: 'forward' } : { kind: 'respond', result: { isError: true, content: [{ type: 'text', text: 'blocked' }] } },
};

const text = (answer: Record<string, unknown>): string => ((answer.result as { content: Array<{ text: string }> }).content[0]!.text);

describe('an agent notification named like a request method', () => {
  // JSON-RPC 2.0 servers run a notification's method and only skip the reply: a `tools/call`
  // without an id must never reach an upstream, or it runs unjudged.
  it('never forwards tools/call sent as a notification (no id) past the guard', async () => {
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } }, { guard: onlySeen });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const blocked = await a.request('tools/call', { name: 'emit', arguments: { lines: [] } });
    expect(text(blocked)).toBe('blocked');
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'emit', arguments: { lines: [] } } }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
    const seen = JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Array<{ method?: string }>;
    // The ordinary notification after it did arrive: the tools/call one was dropped, not delayed.
    expect(seen.map((m) => m.method)).toContain('notifications/roots/list_changed');
    expect(seen.filter((m) => m.method === 'tools/call')).toEqual([]);
  });
});
