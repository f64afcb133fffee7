import { afterEach, describe, expect, it } from 'vitest';
import { imitatedMethod, imitatedNotification } from '../../src/proxy/method-lookalike.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const text = (answer: Record<string, unknown>): string => ((answer.result as { content: Array<{ text: string }> }).content[0]!.text);

const LOOKALIKES = ['Tools/Call', 'TOOLS/CALL', 'tools/call\u0000', 'tools/call ', '\u200Btools/call', 'ｔｏｏｌｓ/ｃａｌｌ', 'tools/\u00ADcall', 'Resources/Read', 'prompts/GET'];

describe('request methods that imitate one warden inspects', () => {
  it.each(LOOKALIKES)('a tools/call disguised as %j to slip past the guard to a lenient server is refused, never forwarded', async (method) => {
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const answer = await a.request(method, { name: 'emit', arguments: { lines: [] }, uri: 'file:///etc/passwd' });
    expect(answer.error).toMatchObject({ code: -32601 });
    expect((answer.error as { message: string }).message).toMatch(/is not (tools\/call|resources\/read|prompts\/get)/);
    const seen = JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Array<{ method?: string }>;
    expect(seen.filter((m) => m.method === method)).toEqual([]);
  });

  it('an unknown method that imitates nothing still passes through unchanged', async () => {
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const answer = await a.request('vendor/custom', { x: 1 });
    expect(answer.error).toMatchObject({ code: -32601, message: 'Method not found' });
    const seen = JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Array<{ method?: string; params?: unknown }>;
    expect(seen.filter((m) => m.method === 'vendor/custom')).toEqual([expect.objectContaining({ method: 'vendor/custom', params: { x: 1 } })]);
  });

  it('knows the exact methods and the disguises apart', () => {
    for (const m of ['tools/call', 'logging/setLevel', 'resources/templates/list', 'notifications/initialized', 'vendor/tools-call']) expect(imitatedMethod(m)).toBeUndefined();
    expect(imitatedMethod('logging/setlevel')).toBe('logging/setLevel');
    expect(imitatedMethod('Initialize')).toBe('initialize');
    expect(imitatedMethod('Tasks/Result')).toBe('tasks/result');
  });
});

const NOTIFICATION_LOOKALIKES = ['notifications/Progress', 'notifications/progress\u0000', 'notifications/resources/updated ', 'Notifications/Resources/Updated', 'notifications/\u200Bcancelled'];

describe('notifications that imitate one warden gates', () => {
  it.each(NOTIFICATION_LOOKALIKES)('an upstream\'s %j (past the progress and subscription gates to a lenient agent) is dropped', async (method) => {
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const params = { progressToken: 'someone-elses', progress: 1, message: 'forged', uri: 'file:///never/subscribed' };
    const lines = [JSON.stringify({ jsonrpc: '2.0', method, params }), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'after' } })];
    expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines } }))).toBe('emitted');
    await a.waitFor((m) => m.method === 'notifications/message');
    expect(a.lines.filter((m) => (m as { method?: string }).method === method)).toEqual([]);
  });

  it('an upstream notification named like a request (sampling without an id: past the relay\'s bound) is dropped', async () => {
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const lines = [JSON.stringify({ jsonrpc: '2.0', method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } }), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'after' } })];
    expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines } }))).toBe('emitted');
    await a.waitFor((m) => m.method === 'notifications/message');
    expect(a.lines.filter((m) => (m as { method?: string }).method === 'sampling/createMessage')).toEqual([]);
  });

  it.each(NOTIFICATION_LOOKALIKES)('the agent\'s %j (past the cancel mapping to every upstream) is dropped', async (method) => {
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    a.fire(JSON.stringify({ jsonrpc: '2.0', method, params: { requestId: 1, progressToken: 1, progress: 1 } }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
    let seen: Array<{ method?: string }> = [];
    for (let i = 0; i < 100 && !seen.some((m) => m.method === 'notifications/roots/list_changed'); i++) {
      seen = JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Array<{ method?: string }>;
    }
    expect(seen.map((m) => m.method)).toContain('notifications/roots/list_changed');
    expect(seen.filter((m) => m.method === method)).toEqual([]);
  });

  it('knows the exact notifications and the disguises apart', () => {
    for (const m of ['notifications/progress', 'notifications/message', 'notifications/roots/list_changed', 'notifications/initialized']) expect(imitatedNotification(m)).toBeUndefined();
    expect(imitatedNotification('notifications/Tools/List_Changed')).toBe('notifications/tools/list_changed');
  });
});
