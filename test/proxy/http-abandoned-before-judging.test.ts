import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Guard, ToolCallRequest, UpstreamOutcome } from '../../src/core/tool-call.js';
import { startHttpWarden } from '../helpers/in-process-warden.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

const SERVER = resolve(REPO_ROOT, 'test/fixtures/proxy/slow-list-server.mjs');
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An agent that closes a call's response stream while warden is still looking the tool up (here:
 * the upstream's tools/list takes a second), before the call reaches the guard. The closed stream
 * is the cancel: the call is judged with an aborted signal (an approval would be withdrawn at once)
 * and never forwarded, although the guard says forward.
 */
describe('a call abandoned before it is judged', () => {
  const callLog = join(tempDir('warden-abandon-'), 'calls.jsonl');
  const judged: { signalAborted: boolean; outcome?: UpstreamOutcome['status'] }[] = [];
  const guard: Guard = {
    async checkToolCall(req: ToolCallRequest) {
      const seen: (typeof judged)[number] = { signalAborted: req.signal.aborted };
      judged.push(seen);
      return { kind: 'forward', onOutcome: (o) => void (seen.outcome = o.status) };
    },
  };
  let warden: Awaited<ReturnType<typeof startHttpWarden>>;
  beforeAll(async () => {
    warden = await startHttpWarden(
      { upstreams: { slow: { command: process.execPath, args: [SERVER], env: { LIST_DELAY_MS: '1000', CALL_LOG: callLog } } } },
      { guard },
    );
  });
  afterAll(() => warden.close());

  it('is never forwarded', async () => {
    const init = await fetch(warden.url, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    const headers = { ...HEADERS, 'mcp-session-id': session };
    await (await fetch(warden.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    const abort = new AbortController();
    const call = fetch(warden.url, { method: 'POST', headers, signal: abort.signal, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'pay', arguments: {} } }) });
    const res = await call; // headers arrive at once: the answer will come on this event stream
    expect(res.status).toBe(200);
    abort.abort(); // the agent goes away while warden still waits for the upstream's tools/list
    const deadline = Date.now() + 8_000;
    while (judged.length === 0 || judged[0]!.outcome === undefined) {
      if (Date.now() > deadline) throw new Error(`call not settled: ${JSON.stringify(judged)}`);
      await sleep(50);
    }
    expect(judged).toEqual([{ signalAborted: true, outcome: 'cancelled' }]);
    // The same session still works for a call the agent waits for (it is forwarded).
    const again = await fetch(warden.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'pay', arguments: {} } }) });
    expect(await again.text()).toContain('ran pay');
    const forwarded = existsSync(callLog) ? readFileSync(callLog, 'utf8').trim().split('\n') : [];
    expect(forwarded).toHaveLength(1); // only the second call reached the upstream
  });
});
