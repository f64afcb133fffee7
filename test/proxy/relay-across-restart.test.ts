import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

type Message = Record<string, unknown>;

describe('a server request still waiting at the agent when its upstream restarts', () => {
  it('is withdrawn: the agent\'s late answer never reaches the new process as the answer to its own request', async () => {
    const dir = tempDir('warden-relay-');
    const gen = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/generations-server.mjs')], env: { GEN_DIR: dir } };
    const a = await rawAgent({ upstreams: { gen }, timeouts: { callMs: 10_000 } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const relayedOf = (method: string) => a.waitFor((m) => m.method === method);
    await a.request('tools/call', { name: 'ask', arguments: {} });
    const sampling = await relayedOf('sampling/createMessage');
    // The upstream crashes and comes back before the agent answered its sampling request.
    expect((await a.request('tools/call', { name: 'crash', arguments: {} })).error).toMatchObject({ code: -32000 });
    // Generous deadlines: the restart backoff and a process start stretch on a loaded 2-core machine.
    const deadline = Date.now() + 15_000;
    while (readFileSync(join(dir, 'starts'), 'utf8') !== '2' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(join(dir, 'starts'), 'utf8')).toBe('2');
    await new Promise((r) => setTimeout(r, 100));
    // The new process asks something else under the same upstream id (ids start over with it).
    await a.request('tools/call', { name: 'ask', arguments: {} });
    const roots = await relayedOf('roots/list');
    // The agent now answers the old sampling request, then the roots request.
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: sampling.id, result: { role: 'assistant', content: { type: 'text', text: 'old sampling answer' }, model: 'm' } }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: roots.id, result: { roots: [] } }));
    expect(await a.alive()).toBe(true);
    // Wait until the new process wrote the roots answer, then a moment more for a wrong second one.
    const readAnswers = () => (existsSync(join(dir, 'answers')) ? readFileSync(join(dir, 'answers'), 'utf8').trim().split('\n') : []);
    const answered = Date.now() + 10_000;
    while (!readAnswers().some((l) => l.startsWith('2 ')) && Date.now() < answered) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const answers = readAnswers();
    const toNew = answers.filter((l) => l.startsWith('2 ')).map((l) => JSON.parse(l.slice(2)) as Message);
    expect(toNew).toEqual([{ jsonrpc: '2.0', id: 1, result: { roots: [] } }]);
    // The agent was told the old request is no longer wanted.
    expect(a.lines.some((m) => (m as Message).method === 'notifications/cancelled' && ((m as Message).params as Message).requestId === sampling.id)).toBe(true);
  });
});
