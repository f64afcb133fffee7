import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
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
