import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const LIMIT = 256 * 1024;

describe('an upstream whose tools/list pages never end', () => {
  it('cannot make warden hold more of one listing than limits.maxUpstreamMessageBytes (pagination is no way around the bound)', async () => {
    // Each page is ~100 KiB, well under the per-message bound; 100 of them would be ~40 times it.
    const endless = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/endless-pages-server.mjs')], env: { PAGE_TOOLS: '10', PAD_BYTES: '10000' } };
    const a = await rawAgent({ upstreams: { endless }, limits: { maxUpstreamMessageBytes: LIMIT } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    // Not listed in this session yet: warden lists the upstream itself to look the tool up.
    const answer = await a.request('tools/call', { name: 'pages', arguments: {} });
    expect(answer.error).toMatchObject({ code: -32603 });
    // It stopped asking for pages once the listing passed the bound.
    const pages = await a.request('tools/list', {});
    const served = (pages.result as { tools: Array<{ name: string }> }).tools[0]!.name;
    expect(Number(/^p(\d+)_/.exec(served)![1])).toBeLessThanOrEqual(6);
  });
});

describe('an upstream whose tools/list pages never end, listed by the agent page by page', () => {
  it('cannot make warden record more of one listing than limits.maxUpstreamMessageBytes (an agent following every cursor)', async () => {
    // ~100 KiB a page: the third page takes what warden recorded of the listing past the bound.
    const endless = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/endless-pages-server.mjs')], env: { PAGE_TOOLS: '10', PAD_BYTES: '10000' } };
    const a = await rawAgent({ upstreams: { endless }, limits: { maxUpstreamMessageBytes: LIMIT } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const first = await a.request('tools/list', {});
    const second = await a.request('tools/list', { cursor: (first.result as { nextCursor: string }).nextCursor });
    expect((second.result as { tools: unknown[] }).tools).toHaveLength(10);
    // Each page is recorded (the guard judges calls against it): past the bound, the page is
    // refused as a whole instead of growing what the session holds without end.
    const third = await a.request('tools/list', { cursor: (second.result as { nextCursor: string }).nextCursor });
    expect(third.result).toBeUndefined();
    expect(third.error).toMatchObject({ code: -32603 });
    // The tools recorded before the bound still work.
    expect(await a.request('tools/call', { name: 'p2_0', arguments: {} })).toHaveProperty('result');
    // A listing from the start begins a new count.
    expect(await a.request('tools/list', {})).toHaveProperty('result');
  });
});

describe('an upstream whose prompts/list or resources/templates/list pages never end, listed by the agent page by page', () => {
  it.each([
    ['prompts/list', 'prompts'],
    ['resources/templates/list', 'resourceTemplates'],
  ] as const)('%s cannot make warden record more of one listing than limits.maxUpstreamMessageBytes (an agent following every cursor)', async (method, field) => {
    // What warden records of each page (the definitions compared with the next listing, the pins'
    // listing in progress, the template routes) grew without end, as it did for tools.
    const endless = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/endless-pages-server.mjs')], env: { PAGE_TOOLS: '10', PAD_BYTES: '10000' } };
    const a = await rawAgent({ upstreams: { endless }, limits: { maxUpstreamMessageBytes: LIMIT } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const first = await a.request(method, {});
    const second = await a.request(method, { cursor: (first.result as { nextCursor: string }).nextCursor });
    expect((second.result as Record<string, unknown[]>)[field]).toHaveLength(10);
    const third = await a.request(method, { cursor: (second.result as { nextCursor: string }).nextCursor });
    expect(third.result).toBeUndefined();
    expect(third.error).toMatchObject({ code: -32603 });
    // A listing from the start begins a new count.
    expect(await a.request(method, {})).toHaveProperty('result');
  });
});
