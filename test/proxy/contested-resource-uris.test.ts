import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { waitFor } from '../helpers/progress.js';
import { MAX_OWNED_URIS_PER_UPSTREAM } from '../../src/proxy/owner-map.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const claimServer = (name: string, env: Record<string, string>) => ({
  command: process.execPath,
  args: [join(REPO_ROOT, 'test/fixtures/proxy/uri-claim-server.mjs')],
  env: { SERVER_NAME: name, ...env },
});

const readText = (answer: Record<string, unknown>): string | undefined =>
  (answer.result as { contents?: Array<{ text: string }> } | undefined)?.contents?.[0]?.text;

describe('resource URIs claimed by two upstreams', () => {
  it('never routes a read of a URI another upstream also lists to the upstream that listed it last', async () => {
    const a = await rawAgent({
      upstreams: {
        files: claimServer('files', { RESOURCE_URIS: 'file:///home/u/notes.txt,file:///home/u/todo.txt' }),
        evil: claimServer('evil', { RESOURCE_URIS: 'file:///home/u/notes.txt' }),
      },
    });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('resources/list', {})).toHaveProperty('result');
    // Not the attacker's content for the other upstream's resource: an ambiguous URI is refused.
    const contested = await a.request('resources/read', { uri: 'file:///home/u/notes.txt' });
    expect(readText(contested)).not.toBe('read by evil');
    expect((contested.error as { code: number } | undefined)?.code).toBe(-32602);
    const subscribe = await a.request('resources/subscribe', { uri: 'file:///home/u/notes.txt' });
    expect((subscribe.error as { code: number } | undefined)?.code).toBe(-32602);
    // A URI only one upstream lists still goes there.
    expect(readText(await a.request('resources/read', { uri: 'file:///home/u/todo.txt' }))).toBe('read by files');
  });

  it('refuses a URI under a template prefix two upstreams both list instead of routing it to the last', async () => {
    const a = await rawAgent({
      upstreams: {
        files: claimServer('files', { RESOURCE_TEMPLATE: 'file:///{path}' }),
        evil: claimServer('evil', { RESOURCE_TEMPLATE: 'file:///{+path}' }),
      },
    });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('resources/templates/list', {})).toHaveProperty('result');
    const read = await a.request('resources/read', { uri: 'file:///etc/passwd' });
    expect(readText(read)).not.toBe('read by evil');
    expect((read.error as { code: number } | undefined)?.code).toBe(-32602);
  });
});

describe('resource URIs inside another upstream\'s template space', () => {
  const listBoth = async (a: Awaited<ReturnType<typeof rawAgent>>) => {
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('resources/list', {})).toHaveProperty('result');
    expect(await a.request('resources/templates/list', {})).toHaveProperty('result');
  };

  it('refuses a read an upstream tries to take over by listing a longer template prefix inside another upstream\'s template', async () => {
    const a = await rawAgent({
      upstreams: {
        files: claimServer('files', { RESOURCE_TEMPLATE: 'file:///{path}' }),
        evil: claimServer('evil', { RESOURCE_TEMPLATE: 'file:///home/{path}' }),
      },
    });
    closers.push(a.close);
    await listBoth(a);
    const read = await a.request('resources/read', { uri: 'file:///home/u/.ssh/id_ed25519' });
    expect(readText(read)).not.toBe('read by evil');
    expect((read.error as { code: number } | undefined)?.code).toBe(-32602);
    // Outside the contested space the template's own upstream still serves it.
    expect(readText(await a.request('resources/read', { uri: 'file:///etc/hosts' }))).toBe('read by files');
  });

  it('refuses a read an upstream tries to take over by listing an exact URI inside another upstream\'s template', async () => {
    const a = await rawAgent({
      upstreams: {
        files: claimServer('files', { RESOURCE_TEMPLATE: 'file:///{path}' }),
        evil: claimServer('evil', { RESOURCE_URIS: 'file:///etc/passwd' }),
      },
    });
    closers.push(a.close);
    await listBoth(a);
    const read = await a.request('resources/read', { uri: 'file:///etc/passwd' });
    expect(readText(read)).not.toBe('read by evil');
    expect((read.error as { code: number } | undefined)?.code).toBe(-32602);
    const subscribe = await a.request('resources/subscribe', { uri: 'file:///etc/passwd' });
    expect((subscribe.error as { code: number } | undefined)?.code).toBe(-32602);
  });

  it('routes each upstream\'s own URIs when their schemes are distinct', async () => {
    const a = await rawAgent({
      upstreams: {
        files: claimServer('files', { RESOURCE_TEMPLATE: 'file:///{path}', RESOURCE_URIS: 'file:///readme.md' }),
        notes: claimServer('notes', { RESOURCE_TEMPLATE: 'notes://{id}', RESOURCE_URIS: 'notes://today' }),
      },
    });
    closers.push(a.close);
    await listBoth(a);
    expect(readText(await a.request('resources/read', { uri: 'file:///readme.md' }))).toBe('read by files');
    expect(readText(await a.request('resources/read', { uri: 'file:///any/where' }))).toBe('read by files');
    expect(readText(await a.request('resources/read', { uri: 'notes://today' }))).toBe('read by notes');
    expect(readText(await a.request('resources/read', { uri: 'notes://42' }))).toBe('read by notes');
  });
});

describe('a subscription whose URI becomes contested later', () => {
  it('can still be ended: unsubscribe goes to the upstream that holds the subscription', async () => {
    const a = await rawAgent({
      upstreams: {
        files: claimServer('files', { RESOURCE_TEMPLATE: 'file:///{path}' }),
        evil: claimServer('evil', { RESOURCE_URIS: 'file:///etc/passwd' }),
      },
    });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('resources/templates/list', {})).toHaveProperty('result');
    const by = (answer: Record<string, unknown>) => ((answer.result as { _meta?: { by?: string } } | undefined)?._meta?.by);
    expect(by(await a.request('resources/subscribe', { uri: 'file:///etc/passwd' }))).toBe('files');
    // Now another upstream lists the URI too: new reads are refused, the old subscription is not stuck.
    expect(await a.request('resources/list', {})).toHaveProperty('result');
    expect((await a.request('resources/read', { uri: 'file:///etc/passwd' })).error).toMatchObject({ code: -32602 });
    expect(by(await a.request('resources/unsubscribe', { uri: 'file:///etc/passwd' }))).toBe('files');
  });
});

describe('a URI whose route moved to another upstream', () => {
  it('is unsubscribed at both upstreams it was subscribed at (subscription left running where warden forgot it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-moved-uri-'));
    const logOf = (name: string): string => join(dir, `${name}.jsonl`);
    const requests = (name: string): Array<{ method: string; uri: string }> =>
      existsSync(logOf(name)) ? readFileSync(logOf(name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; uri: string }) : [];
    const uri = 'shared://doc';
    const a = await rawAgent({
      upstreams: {
        old: claimServer('old', { RESOURCE_URIS: uri, FLOOD_LATER: String(MAX_OWNED_URIS_PER_UPSTREAM + 1), REQUEST_LOG: logOf('old') }),
        new: claimServer('new', { RESOURCE_TEMPLATE: 'shared://{name}', REQUEST_LOG: logOf('new') }),
      },
    });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const by = (answer: Record<string, unknown>) => ((answer.result as { _meta?: { by?: string } } | undefined)?._meta?.by);
    // Only `old` claims the URI (it lists it; `new`'s template is not listed yet).
    expect(await a.request('resources/list', {})).toHaveProperty('result');
    expect(by(await a.request('resources/subscribe', { uri }))).toBe('old');
    // `old` lists more URIs than warden keeps for it (the URI leaves its claims), and `new`'s template claims it now.
    expect(await a.request('resources/list', {})).toHaveProperty('result');
    expect(await a.request('resources/templates/list', {})).toHaveProperty('result');
    expect(by(await a.request('resources/subscribe', { uri }))).toBe('new');
    // The agent holds the URI: its unsubscribe ends it wherever warden subscribed it.
    expect(by(await a.request('resources/unsubscribe', { uri }))).toBeDefined();
    await waitFor(() => (requests('old').some((r) => r.method === 'resources/unsubscribe') ? true : undefined), 'the unsubscribe at old');
    expect(requests('old')).toEqual([{ method: 'resources/subscribe', uri }, { method: 'resources/unsubscribe', uri }]);
    expect(requests('new')).toEqual([{ method: 'resources/subscribe', uri }, { method: 'resources/unsubscribe', uri }]);
  });
});

describe('completions for a resource URI in contested space', () => {
  it('are not routed to an upstream whose template prefix is the URI itself', async () => {
    const a = await rawAgent({
      upstreams: {
        files: claimServer('files', { RESOURCE_TEMPLATE: 'file:///{path}' }),
        evil: claimServer('evil', { RESOURCE_TEMPLATE: 'file:///etc/passwd{?x}' }),
      },
    });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('resources/templates/list', {})).toHaveProperty('result');
    const answer = await a.request('completion/complete', { ref: { type: 'ref/resource', uri: 'file:///etc/passwd' }, argument: { name: 'x', value: '' } });
    expect(answer.error).toMatchObject({ code: -32602 });
  });
});

describe('OwnerMap with keys several upstreams list', () => {
  it('an upstream evicting its own claim on a contested URI hands it back, and cannot evict another upstream\'s', async () => {
    const { OwnerMap, CONTESTED } = await import('../../src/proxy/owner-map.js');
    const map = new OwnerMap(2);
    map.set('u', 'files');
    map.set('u', 'evil');
    expect(map.get('u')).toBe(CONTESTED);
    map.set('x1', 'evil');
    map.set('x2', 'evil'); // evil's oldest key, its claim on `u`, is evicted
    expect(map.get('u')).toBe('files');
    map.set('u', 'evil');
    expect(map.get('u')).toBe(CONTESTED);
    map.set('y1', 'files');
    map.set('y2', 'files'); // now files gives up `u`: only evil claims it
    expect(map.get('u')).toBe('evil');
  });
});
