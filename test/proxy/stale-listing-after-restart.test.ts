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

const fixture = (file: string, env: Record<string, string>) => ({ command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy', file)], env });

describe('a tools/list page that an upstream answered before it restarted', () => {
  it('is not taken as the restarted upstream\'s listing: a tool only the old process had is never forwarded to the new one', async () => {
    const dir = tempDir('warden-gen-');
    const a = await rawAgent({
      upstreams: { gen: fixture('generations-server.mjs', { GEN_DIR: dir }), slow: fixture('slow-list-server.mjs', { LIST_DELAY_MS: '1500' }) },
      timeouts: { requestMs: 10_000, callMs: 10_000 },
    });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    // The agent lists: `gen` answers at once (old, crash), `slow` after 1.5 s.
    const listed = a.exchange(JSON.stringify({ jsonrpc: '2.0', id: 'list', method: 'tools/list', params: {} }), 'list');
    // Meanwhile `gen` crashes and comes back (250 ms backoff) listing other tools.
    expect((await a.request('tools/call', { name: 'gen__crash', arguments: {} })).error).toMatchObject({ code: -32000 });
    const deadline = Date.now() + 5_000;
    while (readFileSync(join(dir, 'starts'), 'utf8') !== '2' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await listed).toHaveProperty('result');
    // `old` is what the first process listed; the running one does not offer it.
    const answer = await a.request('tools/call', { name: 'gen__old', arguments: {} });
    expect(answer.error).toMatchObject({ code: -32602 });
    const calls = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];
    expect(calls).toEqual(['1 crash']);
  });
});
