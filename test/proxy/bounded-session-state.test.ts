import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { waitFor } from '../helpers/progress.js';
import { MAX_RELAYED_REQUESTS } from '../../src/proxy/server-request-relay.js';
import { MAX_SUBSCRIPTIONS } from '../../src/proxy/request-router.js';
import { MAX_OWNED_URIS_PER_UPSTREAM } from '../../src/proxy/owner-map.js';
import { RPC } from '../../src/proxy/json-rpc.js';

type Message = Record<string, unknown>;
type Agent = Awaited<ReturnType<typeof rawAgent>>;

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

async function agentWith(config: Record<string, unknown>): Promise<Agent> {
  const a = await rawAgent(config);
  closers.push(a.close);
  expect(await a.init()).toHaveProperty('result');
  return a;
}


const text = (answer: Message): string => (answer.result as { content: Array<{ text: string }> }).content[0]!.text;
const samplingLine = (id: string, extra: Message = {}): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'sampling/createMessage', params: { messages: [], maxTokens: 1, ...extra } });
/** Server→client requests warden relayed to the agent. */
const relayed = (a: Agent): Message[] => (a.lines as Message[]).filter((m) => m.method === 'sampling/createMessage');
/** Responses and notifications warden sent the hostile upstream. */
const seenUpstream = async (a: Agent): Promise<Message[]> => JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Message[];
const responseTo = (seen: Message[], id: string): Message | undefined => seen.find((m) => m.id === id && !('method' in m));

describe('server→client requests the agent never answers', () => {
  it('refuses relayed requests beyond the cap (an upstream flooding sampling requests)', async () => {
    const a = await agentWith({ upstreams: { hostile: hostileUpstream() } });
    const lines = Array.from({ length: MAX_RELAYED_REQUESTS + 5 }, (_, i) => samplingLine(`s${i + 1}`));
    expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines } }))).toBe('emitted');
    const seen = await waitFor(async () => {
      const s = await seenUpstream(a);
      return responseTo(s, `s${MAX_RELAYED_REQUESTS + 5}`) ? s : undefined;
    }, 'the refusals upstream');
    for (let i = MAX_RELAYED_REQUESTS + 1; i <= MAX_RELAYED_REQUESTS + 5; i++) {
      expect((responseTo(seen, `s${i}`)!.error as { code: number }).code).toBe(RPC.internalError);
    }
    // The first MAX_RELAYED_REQUESTS are still waiting at the agent: no answer was invented for them.
    expect(responseTo(seen, 's1')).toBeUndefined();
    // Nothing beyond the cap reached the agent.
    expect(relayed(a).map((m) => m.id)).toEqual(Array.from({ length: MAX_RELAYED_REQUESTS }, (_, i) => `w${i + 1}`));

    // The session still works: an answer frees a slot, and the next request is relayed again.
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'w1', result: { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' } }));
    await waitFor(async () => responseTo(await seenUpstream(a), 's1'), 'the answer to s1');
    expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines: [samplingLine('again')] } }))).toBe('emitted');
    await waitFor(() => (relayed(a).length === MAX_RELAYED_REQUESTS + 1 ? true : undefined), 'the next relayed request');
    expect(text(await a.request('tools/call', { name: 'echo', arguments: {} }))).toBe('still here');
  });

  it('answers a relayed request the agent sits on with -32001 and tells the agent to stop (an agent that never answers)', async () => {
    const a = await agentWith({ upstreams: { hostile: hostileUpstream() }, timeouts: { callMs: 300, requestMs: 2_000 } });
    expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines: [samplingLine('s1', { _meta: { progressToken: 'tok' } })] } }))).toBe('emitted');
    await waitFor(() => relayed(a)[0], 'the relayed request');
    const cancel = await waitFor(() => (a.lines as Message[]).find((m) => m.method === 'notifications/cancelled'), 'the cancellation at the agent');
    expect((cancel.params as Message).requestId).toBe('w1');
    const seen = await waitFor(async () => responseTo(await seenUpstream(a), 's1'), 'the timeout answer upstream');
    expect((seen.error as { code: number }).code).toBe(RPC.requestTimeout);

    // A late answer and late progress from the agent go nowhere: the entry (and its token) is gone.
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'w1', result: { role: 'assistant', content: { type: 'text', text: 'late' }, model: 'm' } }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok', progress: 1 } }));
    expect(await a.alive()).toBe(true);
    const after = await seenUpstream(a);
    expect(after.filter((m) => m.id === 's1')).toHaveLength(1);
    expect(after.some((m) => m.method === 'notifications/progress')).toBe(false);
    expect(text(await a.request('tools/call', { name: 'echo', arguments: {} }))).toBe('still here');
  });

  it('forgets a relayed request progress token once answered (a token map growing per request)', async () => {
    const a = await agentWith({ upstreams: { hostile: hostileUpstream() } });
    expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines: [samplingLine('s1', { _meta: { progressToken: 'p1' } })] } }))).toBe('emitted');
    const request = await waitFor(() => relayed(a)[0], 'the relayed request');
    // The token as the agent got it (warden's own per relayed request; the upstream gets p1 back).
    const token = ((request.params as Message)._meta as Message).progressToken;
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 1 } }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'w1', result: { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' } }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 2 } }));
    expect(await a.alive()).toBe(true);
    const seen = await waitFor(async () => {
      const s = await seenUpstream(a);
      return responseTo(s, 's1') ? s : undefined;
    }, 'the answer upstream');
    const progress = seen.filter((m) => m.method === 'notifications/progress').map((m) => m.params);
    expect(progress).toEqual([{ progressToken: 'p1', progress: 1 }]);
  });
});

describe('resource subscriptions', () => {
  /** An upstream that takes every subscription (a subscription is held once the upstream answered success). */
  const claimServer = () => ({ command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/uri-claim-server.mjs')], env: { SERVER_NAME: 'claim' } });
  const subscribe = (id: string, uri: string): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'resources/subscribe', params: { uri } });
  const by = (answer: Message): unknown => (answer.result as { _meta?: { by?: string } } | undefined)?._meta?.by;

  it('refuses new subscriptions beyond the cap (an agent subscribing to fresh URIs in a loop)', async () => {
    const a = await agentWith({ upstreams: { claim: claimServer() } });
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i += 100) {
      a.fire(Array.from({ length: 100 }, (_, j) => subscribe(`sub${i + j}`, `test://r/${i + j}`)).join('\n'));
      // Answered (held) before the next hundred: in flight they would count as well.
      await waitFor(() => a.answersFor(`sub${i + 99}`)[0], 'a hundred subscription answers');
    }
    // Every subscription within the cap reached the upstream, which took it.
    expect(by(a.answersFor(`sub${MAX_SUBSCRIPTIONS - 1}`)[0]!)).toBe('claim');
    // One more is answered by warden itself, -32603, and never forwarded.
    const refused = await a.exchange(subscribe('over', 'test://r/new'), 'over');
    expect((refused.error as { code: number }).code).toBe(RPC.internalError);
    // Subscribing again to a URI already held is no new entry: it still reaches the upstream.
    expect(by(await a.exchange(subscribe('again', 'test://r/0'), 'again'))).toBe('claim');
    // Unsubscribing frees a slot, after which a new URI is forwarded again.
    await a.exchange(JSON.stringify({ jsonrpc: '2.0', id: 'unsub', method: 'resources/unsubscribe', params: { uri: 'test://r/1' } }), 'unsub');
    expect(by(await a.exchange(subscribe('fresh', 'test://r/new'), 'fresh'))).toBe('claim');
    expect(await a.alive()).toBe(true);
  });

  it('refuses the subscriptions beyond the cap of a burst sent at once (all in flight before any is held)', async () => {
    const a = await agentWith({ upstreams: { claim: claimServer() } });
    const extra = 5;
    a.fire(Array.from({ length: MAX_SUBSCRIPTIONS + extra }, (_, i) => subscribe(`sub${i}`, `test://r/${i}`)).join('\n'));
    const answers = await waitFor(() => {
      const all = Array.from({ length: MAX_SUBSCRIPTIONS + extra }, (_, i) => a.answersFor(`sub${i}`)[0]);
      return all.every(Boolean) ? (all as Message[]) : undefined;
    }, 'every subscription answer');
    expect(answers.filter((m) => by(m) === 'claim')).toHaveLength(MAX_SUBSCRIPTIONS);
    expect(answers.filter((m) => (m.error as { code?: number } | undefined)?.code === RPC.internalError)).toHaveLength(extra);
    // The cap is full: a new URI is refused.
    expect(((await a.exchange(subscribe('over', 'test://r/new'), 'over')).error as { code: number }).code).toBe(RPC.internalError);
  });

  it('holds nothing for subscriptions the upstream refused: they take no slot (an upstream without resources)', async () => {
    const a = await agentWith({ upstreams: { hostile: hostileUpstream() } });
    a.fire(Array.from({ length: MAX_SUBSCRIPTIONS }, (_, i) => subscribe(`sub${i}`, `test://r/${i}`)).join('\n'));
    const last = await waitFor(() => a.answersFor(`sub${MAX_SUBSCRIPTIONS - 1}`)[0], 'the last subscription answer');
    expect((last.error as { code: number }).code).toBe(RPC.methodNotFound);
    // None of them is held, so a new one is forwarded (and refused by the upstream again).
    expect(((await a.exchange(subscribe('more', 'test://r/new'), 'more')).error as { code: number }).code).toBe(RPC.methodNotFound);
  });
});

describe('resource routing maps', () => {
  const flood = (name: string, count: number) => ({
    command: process.execPath,
    args: [join(REPO_ROOT, 'test/fixtures/proxy/resource-flood-server.mjs')],
    env: { SERVER_NAME: name, RESOURCE_COUNT: String(count) },
  });
  const read = async (a: Agent, uri: string): Promise<Message> => a.request('resources/read', { uri });
  const reader = (answer: Message): string | undefined => (answer.result as { contents?: Array<{ text: string }> } | undefined)?.contents?.[0]?.text;

  it('keeps only the newest URIs per upstream (an upstream listing endless fresh URIs)', async () => {
    const count = MAX_OWNED_URIS_PER_UPSTREAM + 10;
    const a = await agentWith({ upstreams: { big: flood('big', count), small: flood('small', 1) } });
    for (let listing = 1; listing <= 2; listing++) {
      const listed = await a.request('resources/list', {});
      expect((listed.result as { resources: unknown[] }).resources).toHaveLength(count + 1);
    }
    // The newest listing of the flooding upstream is routable; its oldest URIs were evicted and are
    // answered like any unknown URI (-32602 from warden, nothing forwarded).
    expect(reader(await read(a, `flood://big/2/${count - 1}`))).toBe('big');
    expect(reader(await read(a, 'flood://big/2/10'))).toBe('big');
    const evicted = await read(a, 'flood://big/1/0');
    expect((evicted.error as { code: number }).code).toBe(RPC.invalidParams);
    expect((await read(a, 'flood://big/2/9')).error).toMatchObject({ code: RPC.invalidParams });
    // The flood only ever evicted the flooding upstream's own URIs: the other one still routes.
    expect(reader(await read(a, 'flood://small/1/0'))).toBe('small');
    expect(reader(await read(a, 'flood://small/2/0'))).toBe('small');
  });
});
