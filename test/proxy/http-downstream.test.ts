import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMessageRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHttpWarden } from '../helpers/in-process-warden.js';
import { connectHttp, connectStdio } from '../helpers/mcp-clients.js';
import { upstreams } from '../helpers/paths.js';
import { collectProgress, until } from '../helpers/progress.js';
import { rawHttp } from '../helpers/raw-http.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { ...HEADERS, ...headers }, body });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { raw: text } };
}

const code = (json: Record<string, unknown>) => (json.error as { code: number } | undefined)?.code;

describe('Streamable HTTP downstream', () => {
  let warden: Awaited<ReturnType<typeof startHttpWarden>>;
  beforeAll(async () => {
    warden = await startHttpWarden({ listen: { stdio: false, http: { port: 0, maxBodyBytes: 64 * 1024, allowedOrigins: ['http://app.local'] } } });
  });
  afterAll(() => warden.close());

  it('is transparent: same lists and results as a direct stdio connection', async () => {
    const direct = await connectStdio(upstreams.acme().command, upstreams.acme().args);
    const viaHttp = await connectHttp(warden.url);
    try {
      expect(await viaHttp.client.listTools()).toEqual(await direct.client.listTools());
      expect(await viaHttp.client.listPrompts()).toEqual(await direct.client.listPrompts());
      const call = { name: 'list_customers', arguments: { limit: 2 } };
      expect(await viaHttp.client.callTool(call)).toEqual(await direct.client.callTool(call));
      expect(viaHttp.client.getServerCapabilities()).toEqual(direct.client.getServerCapabilities());
    } finally {
      await direct.close();
      await viaHttp.close();
    }
  });

  it('relays progress, logging, sampling and resources/updated to the right HTTP session', async () => {
    const a = await connectHttp(warden.url, {
      capabilities: { sampling: {} },
      setup: (c: Client) => c.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'forty-two' } })),
    });
    const b = await connectHttp(warden.url);
    try {
      const updatesA: unknown[] = [];
      const updatesB: unknown[] = [];
      const logsA: unknown[] = [];
      a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updatesA.push(n.params));
      b.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updatesB.push(n.params));
      a.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logsA.push(n.params));
      await a.client.setLoggingLevel('info');
      await a.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' });
      await b.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' });
      const progress = collectProgress(a.client);
      await a.client.callTool({ name: 'slow_task', arguments: { steps: 2, delayMs: 5 } }, undefined, { onprogress: () => undefined });
      await until(() => progress.length === 2);
      expect(progress.map((p) => p.progress)).toEqual([1, 2]);
      const sampled = await a.client.callTool({ name: 'ask_llm', arguments: { question: 'meaning?' } });
      expect(sampled.content).toEqual([{ type: 'text', text: 'llm said: forty-two' }]);
      await a.client.callTool({ name: 'write_file', arguments: { path: '/docs/readme.txt', content: 'new' } });
      await new Promise((r) => setTimeout(r, 200));
      expect(updatesA).toEqual([{ uri: 'acme://files/docs/readme.txt' }]);
      expect(updatesB).toEqual([]); // session B has its own upstream: A's write is not B's event
      expect(logsA.length).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps responses in their session when two sessions reuse the same request ids', async () => {
    const a = await connectHttp(warden.url);
    const b = await connectHttp(warden.url);
    try {
      const calls = Array.from({ length: 20 }, (_, i) => [
        a.client.callTool({ name: 'echo', arguments: { message: `a-${i}` } }),
        b.client.callTool({ name: 'echo', arguments: { message: `b-${i}` } }),
      ]).flat();
      const results = await Promise.all(calls);
      results.forEach((r, i) => {
        const expected = `${i % 2 === 0 ? 'a' : 'b'}-${Math.floor(i / 2)}`;
        expect(r.content).toEqual([{ type: 'text', text: expected }]);
      });
      expect(warden.listSessions().length).toBeGreaterThanOrEqual(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rejects a foreign Host header (DNS rebinding) with 403 / -32600', async () => {
    const before = new Set(warden.listSessions().map((s) => s.sessionId));
    const res = await rawHttp(warden.url, { headers: { ...HEADERS, host: 'evil.example:80' }, body: JSON.stringify(INIT) });
    expect(res.status).toBe(403);
    expect(code(JSON.parse(res.body) as Record<string, unknown>)).toBe(-32600);
    expect(warden.listSessions().filter((s) => !before.has(s.sessionId))).toEqual([]); // no session was opened
  });

  it('rejects a foreign Origin with 403 / -32600 and accepts an allowlisted one', async () => {
    const bad = await post(warden.url, JSON.stringify(INIT), { origin: 'http://evil.example' });
    expect(bad.status).toBe(403);
    expect(code(bad.json)).toBe(-32600);
    const good = await post(warden.url, JSON.stringify(INIT), { origin: 'http://app.local' });
    expect(good.status).toBe(200);
  });

  it('rejects malformed JSON with -32700, a batch with -32600, an oversized body with 413', async () => {
    const malformed = await post(warden.url, '{"jsonrpc":"2.0",');
    expect([malformed.status, code(malformed.json)]).toEqual([400, -32700]);
    const batch = await post(warden.url, JSON.stringify([INIT, INIT]));
    expect([batch.status, code(batch.json)]).toEqual([400, -32600]);
    const notRpc = await post(warden.url, JSON.stringify({ hello: 'world' }));
    expect([notRpc.status, code(notRpc.json)]).toEqual([400, -32600]);
    const huge = await post(warden.url, JSON.stringify({ ...INIT, params: { ...INIT.params, pad: 'x'.repeat(100_000) } }));
    expect(huge.status).toBe(413);
    // Warden lives on.
    const after = await connectHttp(warden.url);
    expect((await after.client.callTool({ name: 'echo', arguments: { message: 'alive' } })).content).toEqual([{ type: 'text', text: 'alive' }]);
    await after.close();
  });

  it('rejects a batch inside an existing session with -32600', async () => {
    const client = await connectHttp(warden.url);
    const sessionId = client.transport.sessionId!;
    const ping = { jsonrpc: '2.0', id: 99, method: 'ping' };
    const res = await post(warden.url, JSON.stringify([ping, ping]), { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
    expect([res.status, code(res.json)]).toEqual([400, -32600]);
    await client.close();
  });

  it('answers 404 for an unknown session and after closeSession', async () => {
    const unknown = await post(warden.url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }), { 'mcp-session-id': 'nope' });
    expect(unknown.status).toBe(404);
    const client = await connectHttp(warden.url);
    const sessionId = client.transport.sessionId!;
    expect(await warden.closeSession(sessionId, 'revoked')).toBe(true);
    await expect(client.client.callTool({ name: 'echo', arguments: { message: 'x' } })).rejects.toThrow();
    expect(warden.listSessions().map((s) => s.sessionId)).not.toContain(sessionId);
    await client.close();
  });
});

describe('HTTP session lifetime', () => {
  it('closes idle sessions after sessionIdleMs and answers 404 afterwards', async () => {
    const warden = await startHttpWarden({ listen: { stdio: false, http: { port: 0, sessionIdleMs: 300 } } });
    try {
      const client = await connectHttp(warden.url);
      const sessionId = client.transport.sessionId!;
      expect(warden.listSessions().map((s) => s.sessionId)).toContain(sessionId);
      const deadline = Date.now() + 5000;
      while (warden.listSessions().some((s) => s.sessionId === sessionId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(warden.listSessions().map((s) => s.sessionId)).not.toContain(sessionId);
      const res = await post(warden.url, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }), { 'mcp-session-id': sessionId });
      expect(res.status).toBe(404);
      await client.close();
    } finally {
      await warden.close();
    }
  });
});
