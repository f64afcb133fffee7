import { afterEach, describe, expect, it } from 'vitest';
import { createAllowAllGuard } from '../../src/proxy/allow-all-guard.js';
import { RPC } from '../../src/proxy/json-rpc.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';
import { waitFor } from '../helpers/progress.js';
import { createTestAuthenticator, testPrincipal } from '../helpers/test-authenticator.js';

type Message = Record<string, unknown>;

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const text = (answer: Message): string => (answer.result as { content: Array<{ text: string }> }).content[0]!.text;
const elicitLine = (id: string): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'elicitation/create', params: { message: 'Transfer 10,000 EUR?', requestedSchema: { type: 'object', properties: {} } } });
const accept = (relayId: string): string => JSON.stringify({ jsonrpc: '2.0', id: relayId, result: { action: 'accept', content: {} } });

/**
 * Over stdio one process token stands behind everything the agent sends. Requests are re-checked
 * (stdio-request-check.ts), but the agent's answers to requests warden relays from an upstream
 * (elicitation, sampling, roots) went straight to the upstream: an agent whose token had expired
 * or been revoked could still steer a running tool through them (say "accept" to an elicitation,
 * feed a sampling result), which over HTTP its 401 prevents.
 */
describe('stdio: answers to relayed server requests are authenticated like requests', () => {
  async function setup() {
    const auth = createTestAuthenticator({ good: testPrincipal('alice', 'agent-7') }, { stdioToken: 'good' });
    let standing: string | undefined;
    const guard = { ...createAllowAllGuard(), requestStanding: () => standing };
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } }, { authenticator: auth, guard });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const seenUpstream = async (): Promise<Message[]> => JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Message[];
    const answerAtUpstream = (id: string) => waitFor(async () => (await seenUpstream()).find((m) => m.id === id && !('method' in m)), `the answer to ${id} upstream`);
    /** The upstream asks the agent; returns the relay id the agent saw. */
    const elicit = async (id: string): Promise<string> => {
      expect(text(await a.request('tools/call', { name: 'emit', arguments: { lines: [elicitLine(id)] } }))).toBe('emitted');
      const relayed = await waitFor(async () => (a.lines as Message[]).find((m) => m.method === 'elicitation/create' && (m.params as Message).message && !relayedIds.has(m.id as string)), 'the relayed elicitation');
      relayedIds.add(relayed.id as string);
      return relayed.id as string;
    };
    const relayedIds = new Set<string>();
    /** Sends the agent's answer and waits until warden has read it (a ping behind it is answered). */
    const answerWith = async (line: string): Promise<void> => {
      a.fire(line);
      expect(await a.alive()).toBe(true);
    };
    return { a, auth, setStanding: (s: string | undefined) => (standing = s), elicit, answerAtUpstream, answerWith };
  }

  it('does not let a revoked agent answer an upstream elicitation: the upstream gets an error, not "accept"', async () => {
    const { setStanding, elicit, answerAtUpstream, answerWith } = await setup();
    const relayId = await elicit('e1');
    setStanding('token_revoked');
    await answerWith(accept(relayId));
    setStanding(undefined); // only so the test can read what the upstream saw (tool call `seen`)
    const answer = await answerAtUpstream('e1');
    expect(answer.result).toBeUndefined();
    expect(answer.error).toMatchObject({ code: RPC.internalError, data: { reason: 'token_revoked' } });
  });

  it('does not let an agent whose token expired answer an upstream elicitation', async () => {
    const { auth, elicit, answerAtUpstream, answerWith } = await setup();
    const relayId = await elicit('e2');
    auth.stdioToken = 'expired';
    await answerWith(accept(relayId));
    auth.stdioToken = 'good';
    const answer = await answerAtUpstream('e2');
    expect(answer.result).toBeUndefined();
    expect(answer.error).toMatchObject({ code: RPC.internalError, data: { reason: 'token_invalid' } });
  });

  it('relays the answer of an agent whose token stands', async () => {
    const { elicit, answerAtUpstream, answerWith } = await setup();
    const relayId = await elicit('e3');
    await answerWith(accept(relayId));
    expect((await answerAtUpstream('e3')).result).toEqual({ action: 'accept', content: {} });
  });
});

describe('stdio: notifications an agent sends on to the upstreams are authenticated like requests', () => {
  it('does not pass a revoked agent\'s notifications on to the upstreams (roots changed, custom ones), but still its cancellations', async () => {
    let standing: string | undefined;
    const guard = { ...createAllowAllGuard(), requestStanding: () => standing };
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } }, { guard });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'held', method: 'test/hold' })); // the upstream sits on it
    expect(await a.alive()).toBe(true);
    standing = 'token_revoked';
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/acme/run_nightly_job', params: { now: true } }));
    // Stopping work is never refused: the held request is cancelled upstream.
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'held', reason: 'stop' } }));
    expect(await a.alive()).toBe(true); // every line was read while the subject stood revoked
    standing = undefined; // only so the test can read what the upstream saw (tool call `seen`)
    const seen = JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Message[];
    expect(seen.map((m) => m.method)).toEqual(['notifications/initialized', 'notifications/cancelled']);
  });
});
