import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';
import { testPrincipal } from '../helpers/test-authenticator.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

describe('an agent cancel that arrives while warden still looks the called tool up', () => {
  it('forwards nothing: a call cancelled before it was judged is never run', async () => {
    const callLog = join(tempDir('warden-cancel-'), 'calls.jsonl');
    const judged: ToolCallRequest[] = [];
    const a = await rawAgent(
      { upstreams: { slow: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/slow-list-server.mjs')], env: { LIST_DELAY_MS: '600', CALL_LOG: callLog } } } },
      { guard: { checkToolCall: (req) => (judged.push(req), { kind: 'forward' }) } },
    );
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    // The session has not listed `pay`: warden lists the upstream first (600 ms), and the agent
    // cancels the call meanwhile.
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'pay-1', method: 'tools/call', params: { name: 'pay', arguments: { amount: 1_000 } } }));
    await new Promise((r) => setTimeout(r, 100));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'pay-1', reason: 'user pressed stop' } }));
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await a.alive()).toBe(true);
    expect(existsSync(callLog) ? readFileSync(callLog, 'utf8') : '').toBe('');
    expect(judged.every((req) => req.signal.aborted)).toBe(true);
    // A later call with a fresh id still runs.
    expect(await a.request('tools/call', { name: 'pay', arguments: { amount: 1 } })).toHaveProperty('result');
    expect(readFileSync(callLog, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('an agent cancel that arrives while warden still checks the stdio token of a request', () => {
  it('forwards nothing: a request cancelled while its check waits (a token file just changed) is never sent upstream', async () => {
    const principal = testPrincipal('alice', 'agent-7');
    let gate: Promise<void> = Promise.resolve();
    // The first check after the token file changed verifies the new token: it has to wait.
    const authenticator = {
      authenticateHttp: async () => ({ ok: true as const, principal }),
      authenticateStdio: async () => {
        await gate;
        return { ok: true as const, principal };
      },
    };
    const a = await rawAgent({ upstreams: { hostile: hostileUpstream() } }, { authenticator });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    let open: () => void = () => undefined;
    gate = new Promise<void>((r) => (open = r));
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'level-1', method: 'logging/setLevel', params: { level: 'debug' } }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'level-1', reason: 'user pressed stop' } }));
    // Queued behind it, so answered only after the cancelled request was settled.
    const after = a.exchange(JSON.stringify({ jsonrpc: '2.0', id: 'level-2', method: 'logging/setLevel', params: { level: 'info' } }), 'level-2');
    expect(await a.alive()).toBe(true); // warden has read all three lines
    open();
    expect(await after).toHaveProperty('result');
    // The cancelled request got no answer (none is due after a cancel) because it never ran upstream.
    expect(a.answersFor('level-1')).toEqual([]);
    gate = Promise.resolve();
    const text = (m: Record<string, unknown>): string => (m.result as { content: Array<{ text: string }> }).content[0]!.text;
    const seen = JSON.parse(text(await a.request('tools/call', { name: 'seen', arguments: {} }))) as Array<Record<string, unknown>>;
    // Nor was a cancellation for it sent upstream: there was nothing to cancel there.
    expect(seen.filter((m) => m.method === 'notifications/cancelled')).toEqual([]);
  });
});

describe('an agent cancel that arrives while warden still lists the prompts or resource templates a get or read uses', () => {
  /** A guard with pins that accept every definition: warden lists what a get or read uses before judging it. */
  const pinnedGuard = (judged: ToolCallRequest[]) => ({
    checkToolCall: (req: ToolCallRequest) => (judged.push(req), { kind: 'forward' as const }),
    definitionListing: () => ({ listed: true as const }),
    onDefinitionsListed: () => undefined,
  });

  for (const [method, params] of [
    ['resources/read', { uri: 'slow://docs/plan' }],
    ['prompts/get', { name: 'brief', arguments: { topic: 'plan' } }],
  ] as const) {
    it(`forwards nothing: a ${method} cancelled while its pins' listing is under way is never sent upstream`, async () => {
      const callLog = join(tempDir('warden-cancel-read-'), 'calls.jsonl');
      const judged: ToolCallRequest[] = [];
      const a = await rawAgent(
        { upstreams: { slow: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/slow-list-server.mjs')], env: { LIST_DELAY_MS: '600', CALL_LOG: callLog, SLOW_DEFS: '1' } } } },
        { guard: pinnedGuard(judged) },
      );
      closers.push(a.close);
      expect(await a.init()).toHaveProperty('result');
      // Nothing listed yet: warden lists the upstream's prompts or templates first (600 ms), and the
      // agent cancels meanwhile.
      a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'get-1', method, params }));
      await new Promise((r) => setTimeout(r, 100));
      a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'get-1', reason: 'user pressed stop' } }));
      await new Promise((r) => setTimeout(r, 1_200));
      expect(await a.alive()).toBe(true);
      expect(existsSync(callLog) ? readFileSync(callLog, 'utf8') : '').toBe('');
      expect(judged.every((req) => req.signal.aborted)).toBe(true);
      expect(a.answersFor('get-1')).toEqual([]);
      // The same request under a fresh id still runs.
      expect(await a.request(method, params)).toHaveProperty('result');
      expect(readFileSync(callLog, 'utf8').trim().split('\n')).toHaveLength(1);
    });
  }
});
