import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_EXPOSED_NAMES_PER_UPSTREAM, Namespacer } from '../../src/proxy/namespacing.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/** The exposed name warden gives a tool name that is too long (see Namespacer.expose). */
const shortened = (upstream: string, name: string): string => {
  const full = `${upstream}__${name}`;
  return `${full.slice(0, 55)}_${createHash('sha256').update(full).digest('hex').slice(0, 8)}`;
};

describe('an upstream listing ever new tool names', () => {
  it('cannot grow a session\'s name map beyond its bound per upstream', () => {
    const ns = new Namespacer(['flood', 'other']);
    expect(ns.expose('other', 'echo').ok).toBe(true);
    for (let i = 0; i < MAX_EXPOSED_NAMES_PER_UPSTREAM * 3; i++) ns.expose('flood', `t${i}`);
    expect(ns.size).toBeLessThanOrEqual(MAX_EXPOSED_NAMES_PER_UPSTREAM + 1);
    // The flood evicted only its own names.
    expect(ns.resolve('other__echo')).toEqual({ upstream: 'other', name: 'echo' });
    const single = new Namespacer(['only']);
    for (let i = 0; i < MAX_EXPOSED_NAMES_PER_UPSTREAM * 2; i++) single.expose('only', `t${i}`);
    expect(single.size).toBeLessThanOrEqual(MAX_EXPOSED_NAMES_PER_UPSTREAM);
    expect(single.resolve('t0')).toEqual({ upstream: 'only', name: 't0' });
  });

  it('keeps the newest listing callable under its shortened names, and the other upstream\'s tools', async () => {
    const pad = 'x'.repeat(70);
    const flood = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/tool-flood-server.mjs')], env: { TOOL_COUNT: String(MAX_EXPOSED_NAMES_PER_UPSTREAM / 2 + 10), TOOL_PAD: '70' } };
    const a = await rawAgent({ upstreams: { flood, other: hostileUpstream() } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    for (let i = 0; i < 3; i++) expect(await a.request('tools/list', {})).toHaveProperty('result');
    // The newest listing stays callable under its shortened names.
    const newest = await a.request('tools/call', { name: shortened('flood', `t3_0_${pad}`), arguments: {} });
    expect((newest.result as { content: Array<{ text: string }> }).content[0]!.text).toBe(`ran t3_0_${pad}`);
    expect(await a.request('tools/call', { name: 'other__echo', arguments: {} })).toHaveProperty('result');
  });
});
