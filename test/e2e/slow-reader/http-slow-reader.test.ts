import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRecord } from '../../helpers/audit-e2e-warden.js';
import { openHttpSession, rawRequest } from '../../helpers/hostile-http.js';
import { connectHttp, type ConnectedClient } from '../../helpers/mcp-clients.js';
import { transparentGuardrails } from '../../helpers/paths.js';
import { until } from '../../helpers/progress.js';
import { floodUpstream, logRecords, openUnreadStream, rssMiB } from '../../helpers/slow-reader-peers.js';
import { spawnWardenHttp, tempDir, type WardenHttpProcess } from '../../helpers/warden-process.js';

const BOUND = 256 * 1024;

let w: WardenHttpProcess;
let auditFile: string;
let good: ConnectedClient;
/** The well-behaved agent calls in a loop while the other agent floods; every call must succeed. */
let goodCalls = 0;
let goodFailures: unknown[] = [];
let stopGood = false;
let goodLoop: Promise<void>;

beforeAll(async () => {
  auditFile = join(tempDir('warden-slow-reader-'), 'audit.jsonl');
  w = await spawnWardenHttp({
    dangerouslyAllowAnonymous: true,
    upstreams: { flood: floodUpstream() },
    ...transparentGuardrails(),
    limits: { maxBufferedOutputBytes: BOUND },
    audit: { file: auditFile },
  });
  good = await connectHttp(w.url, { name: 'good-agent' });
  goodLoop = (async () => {
    while (!stopGood) {
      try {
        const r = await good.client.callTool({ name: 'echo', arguments: { text: 'hello' } });
        if ((r.content as Array<{ text: string }>)[0]?.text !== '5') goodFailures.push(r);
        goodCalls += 1;
      } catch (err) {
        goodFailures.push(err);
      }
      // Paced, not flat out: the point is that it keeps working, not to load the machine.
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
}, 30_000);

afterAll(async () => {
  stopGood = true;
  await goodLoop;
  await good?.close();
  await w?.stop();
});

/** The well-behaved session made progress since `before` and nothing failed. */
async function goodAgentKeptWorking(before: number): Promise<void> {
  await until(() => goodCalls > before + 3, 5_000);
  expect(goodFailures).toEqual([]);
}

/** The warning warden logged for the overflowing session. */
const overflowWarning = (sessionId: string) =>
  logRecords(w.stderr).find((r) => r.sessionId === sessionId && r.msg === 'agent is not reading its event stream; closing the session');

describe('an HTTP agent that does not read its event streams', () => {
  it('an agent that never reads its SSE stream cannot grow warden\'s memory', async () => {
    const hostile = await openHttpSession(w.url);
    const stream = await openUnreadStream(w.url, hostile.headers);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toContain('text/event-stream');
    const rssBefore = rssMiB(w.pid);
    const callsBefore = goodCalls;
    // The upstream now sends 16 KiB logging notifications for as long as it runs; they go to the GET stream.
    const started = await hostile.request('tools/call', '{"name":"flood","arguments":{"size":16384}}');
    expect(started).toMatchObject({ result: { content: [{ text: 'flooding' }] } });

    const closed = await waitForRecord(auditFile, (r) => r.type === 'session.closed' && r.sessionId === hostile.sessionId);
    expect(closed.reason).toBe('output_overflow');
    const warning = overflowWarning(hostile.sessionId);
    expect(warning).toMatchObject({ limitBytes: BOUND });
    expect(warning!.bufferedBytes as number).toBeGreaterThan(BOUND);
    // Ended, not merely noted: the session is gone and its stream breaks once read.
    expect((await hostile.post('{"jsonrpc":"2.0","id":"after","method":"ping"}')).status).toBe(404);
    await stream.readAndWaitForEnd();
    // Coarse: without the bound warden grew by ~100 MiB per second of this flood.
    expect(rssMiB(w.pid) - rssBefore).toBeLessThan(64);
    await goodAgentKeptWorking(callsBefore);
  }, 15_000);

  it('an agent that never reads the SSE answer of its own call cannot grow warden\'s memory', async () => {
    const hostile = await openHttpSession(w.url);
    const callsBefore = goodCalls;
    // 1,500 progress notifications of 16 KiB (~24 MiB) on the call's own stream, which is never read.
    const call = { jsonrpc: '2.0', id: 'unread', method: 'tools/call', params: { name: 'progress', arguments: { size: 16384, count: 1500 }, _meta: { progressToken: 'p1' } } };
    const stream = await openUnreadStream(w.url, hostile.headers, JSON.stringify(call));
    expect(stream.status).toBe(200);
    expect(stream.contentType).toContain('text/event-stream');

    const closed = await waitForRecord(auditFile, (r) => r.type === 'session.closed' && r.sessionId === hostile.sessionId);
    expect(closed.reason).toBe('output_overflow');
    expect(overflowWarning(hostile.sessionId)).toMatchObject({ limitBytes: BOUND });
    expect((await hostile.post('{"jsonrpc":"2.0","id":"after","method":"ping"}')).status).toBe(404);
    await stream.readAndWaitForEnd();
    await goodAgentKeptWorking(callsBefore);
  }, 15_000);

  it('an agent that reads its streams keeps its session through a large flood', async () => {
    const callsBefore = goodCalls;
    // 4 MiB of progress on the well-behaved agent's own call: 16 times the bound in total,
    // but read as it comes, so nothing piles up.
    let seen = 0;
    const result = await good.client.callTool({ name: 'progress', arguments: { size: 16384, count: 256 } }, undefined, { onprogress: () => void (seen += 1) });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(seen).toBeGreaterThan(0);
    await goodAgentKeptWorking(callsBefore);
  }, 15_000);
});

describe('warden\'s own Node ↔ web bridge in front of the SDK transport', () => {
  it('answers methods the transport does not serve with 405 on a live session (a TRACE cannot even be a web Request)', async () => {
    const session = await openHttpSession(w.url);
    for (const method of ['TRACE', 'PUT']) {
      const answer = await rawRequest(w.url, { method, path: '/mcp', headers: session.headers });
      expect(answer.status).toBe(405);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: -32000 } });
    }
    expect(await session.request('ping')).toHaveProperty('result');
  });
});
