import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Guard, ToolCallRequest } from '../../src/core/tool-call.js';
import { hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const failing = { command: process.execPath, args: ['-e', 'process.exit(1)'] };

describe('a session whose initialize did not succeed', () => {
  it('forwards no call after one upstream failed to start (the session never opened: no session.opened, not listed)', async () => {
    const judged: ToolCallRequest[] = [];
    const opened: string[] = [];
    const guard: Guard = { checkToolCall: (req) => (judged.push(req), { kind: 'forward' }), onSessionOpened: (info) => void opened.push(info.sessionId) };
    const a = await rawAgent({ upstreams: { good: hostileUpstream(), bad: failing } }, { guard });
    closers.push(a.close);
    expect((await a.init()).error).toMatchObject({ code: -32603 });
    const call = await a.request('tools/call', { name: 'good__echo', arguments: {} });
    expect(call.error).toMatchObject({ code: -32600 });
    const list = await a.request('tools/list', {});
    expect(list.error).toMatchObject({ code: -32600 });
    expect(judged).toEqual([]);
    expect(opened).toEqual([]);
    expect(a.handle.listSessions()).toEqual([]);
    expect(await a.alive()).toBe(true); // ping is still answered
  });

  it('tells the agent which upstream failed and how it ended, never what it printed: a secret on its stderr or in its env stays out', async () => {
    const leaky = {
      command: process.execPath,
      args: ['-e', 'console.error("Error: bad API key sk-live-0123456789 for " + process.env.ACME_TOKEN); process.exit(3)'],
      env: { ACME_TOKEN: 'tok-secret-abcdef' },
    };
    const a = await rawAgent({ upstreams: { good: hostileUpstream(), acme: leaky } });
    closers.push(a.close);
    const init = (await a.init()).error as { code: number; message: string; data: Record<string, unknown> };
    expect(init).toEqual({
      code: -32603,
      message: "upstream 'acme' failed to start: exited with code 3 during start-up",
      data: { reason: 'upstream_start_failed', upstream: 'acme', detail: 'exited with code 3 during start-up' },
    });
    // Later requests (a call to its tools, a listing) say why the session never opened.
    for (const [method, params] of [['tools/call', { name: 'acme__echo', arguments: {} }], ['tools/list', {}]] as const) {
      const answer = await a.request(method, params);
      expect(answer.error).toMatchObject({ code: -32600, message: "Invalid Request: session not initialized (upstream 'acme' failed to start: exited with code 3 during start-up)" });
    }
    const everything = JSON.stringify(a.lines);
    expect(everything).not.toContain('sk-live');
    expect(everything).not.toContain('tok-secret');
  });

  it('says "command not found" for a command that does not exist, without echoing its command line (an argument may be a token)', async () => {
    const missing = { command: '/nonexistent/warden-test-no-such-server', args: ['--api-key=sk-arg-secret'] };
    const a = await rawAgent({ upstreams: { acme: missing } });
    closers.push(a.close);
    expect((await a.init()).error).toMatchObject({ code: -32603, message: "upstream 'acme' failed to start: command not found (ENOENT)" });
    expect(JSON.stringify(a.lines)).not.toContain('sk-arg-secret');
    expect(JSON.stringify(a.lines)).not.toContain('/nonexistent');
  });

  it('says the upstream did not answer initialize in time', async () => {
    const silent = { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] };
    const a = await rawAgent({ upstreams: { acme: silent }, timeouts: { initializeMs: 500 } });
    closers.push(a.close);
    expect((await a.init()).error).toMatchObject({ code: -32603, message: "upstream 'acme' failed to start: did not answer initialize within 500 ms" });
  });

  it('passes none of the agent\'s notifications to the upstreams that did start (roots/list_changed would have them ask it for its roots)', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'warden-unopened-')), 'notifications');
    // Answers initialize, records every notification it gets.
    const recording = {
      command: process.execPath,
      args: ['-e', `const fs = require('fs'); let b = ''; process.stdin.on('data', (d) => { b += d; let i; while ((i = b.indexOf('\\n')) >= 0) { const m = JSON.parse(b.slice(0, i)); b = b.slice(i + 1); if (m.id === undefined) fs.appendFileSync(process.env.LOG, m.method + '\\n'); else if (m.method === 'initialize') process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: {}, serverInfo: { name: 'r', version: '1' } } }) + '\\n'); } });`],
      env: { LOG: log },
    };
    const a = await rawAgent({ upstreams: { good: recording, bad: failing } });
    closers.push(a.close);
    expect((await a.init()).error).toMatchObject({ code: -32603 });
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/vendor/anything', params: { x: 1 } }));
    expect(await a.alive()).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');
  });

  it('relays no request or notification of an upstream that did start to the agent (an elicitation from a session that never opened), and answers the request', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'warden-unopened-')), 'answers');
    // Answers initialize, asks the agent for input half a second later, records the answer it gets.
    const asking = {
      command: process.execPath,
      args: ['-e', `const fs = require('fs'); let b = ''; const out = (m) => process.stdout.write(JSON.stringify(m) + '\\n'); process.stdin.on('data', (d) => { b += d; let i; while ((i = b.indexOf('\\n')) >= 0) { const m = JSON.parse(b.slice(0, i)); b = b.slice(i + 1); if (m.method === 'initialize') { out({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: {}, serverInfo: { name: 'r', version: '1' } } }); setTimeout(() => { out({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'from a session that never opened' } }); out({ jsonrpc: '2.0', id: 'ask', method: 'elicitation/create', params: { message: 'Your password?', requestedSchema: { type: 'object', properties: {} } } }); }, 500); } else if (m.method === undefined) fs.appendFileSync(process.env.LOG, JSON.stringify(m) + '\\n'); } });`],
      env: { LOG: log },
    };
    const a = await rawAgent({ upstreams: { good: asking, bad: failing } });
    closers.push(a.close);
    expect((await a.init()).error).toMatchObject({ code: -32603 });
    for (let i = 0; i < 200 && !existsSync(log); i++) await new Promise((r) => setTimeout(r, 10));
    const answers = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; error?: { code: number } });
    expect(answers).toEqual([expect.objectContaining({ id: 'ask', error: expect.objectContaining({ code: -32600 }) })]);
    expect(a.lines.filter((m) => (m as { method?: string }).method === 'elicitation/create')).toEqual([]);
    expect(a.lines.filter((m) => (m as { method?: string }).method === 'notifications/message')).toEqual([]);
  });

  it('answers requests sent before initialize with -32600 and forwards nothing', async () => {
    const judged: ToolCallRequest[] = [];
    const a = await rawAgent({ upstreams: { good: hostileUpstream() } }, { guard: { checkToolCall: (req) => (judged.push(req), { kind: 'forward' }) } });
    closers.push(a.close);
    expect((await a.request('tools/call', { name: 'echo', arguments: {} })).error).toMatchObject({ code: -32600 });
    expect(await a.init()).toHaveProperty('result');
    expect(await a.request('tools/call', { name: 'echo', arguments: {} })).toHaveProperty('result');
    expect(judged).toHaveLength(1);
  });
});
