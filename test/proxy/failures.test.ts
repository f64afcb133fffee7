import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamOutcome } from '../../src/core/tool-call.js';
import { startRawStdioWarden, startStdioWardenWithClient } from '../helpers/in-process-warden.js';
import { join } from 'node:path';
import { ACME_SERVER, REPO_ROOT, WARDEN_MAIN } from '../helpers/paths.js';
import { writeTempConfig } from '../helpers/warden-process.js';
import { eventuallyResolves } from '../helpers/progress.js';
import { resultEvent } from '../../src/audit/events.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

describe('upstream failures', () => {
  it('answers in-flight calls with -32000 when the upstream crashes, restarts it, and tells the agent to re-list', async () => {
    const w = await startStdioWardenWithClient();
    closers.push(w.close);
    let listChanged = 0;
    w.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    const hanging = w.client.callTool({ name: 'hang', arguments: {} });
    await new Promise((r) => setTimeout(r, 100));
    await expect(w.client.callTool({ name: 'crash', arguments: {} })).rejects.toMatchObject({ code: -32000 });
    await expect(hanging).rejects.toMatchObject({ code: -32000 });
    const echo = await eventuallyResolves(() => w.client.callTool({ name: 'echo', arguments: { message: 'back' } }));
    expect(echo.content).toEqual([{ type: 'text', text: 'back' }]);
    expect(listChanged).toBeGreaterThanOrEqual(1);
  });

  it('forgets the tools a crashed upstream listed: a tool the restarted server dropped is unknown, not forwarded', async () => {
    const w = await startStdioWardenWithClient();
    closers.push(w.close);
    await w.client.callTool({ name: 'toggle_beta_tools', arguments: { enabled: true } });
    expect((await w.client.listTools()).tools.map((t) => t.name)).toContain('beta_report');
    expect((await w.client.callTool({ name: 'beta_report', arguments: {} })).content).toEqual([{ type: 'text', text: 'Q3 report' }]);
    await expect(w.client.callTool({ name: 'crash', arguments: {} })).rejects.toMatchObject({ code: -32000 });
    await eventuallyResolves(() => w.client.callTool({ name: 'echo', arguments: { message: 'back' } }));
    // The new process starts with beta tools off: warden re-listed it and answers for it.
    await expect(w.client.callTool({ name: 'beta_report', arguments: {} })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Unknown tool: beta_report') });
  });

  it('re-applies the session logging level and subscriptions to a restarted upstream', async () => {
    const w = await startStdioWardenWithClient();
    closers.push(w.close);
    const updates: unknown[] = [];
    const logs: unknown[] = [];
    w.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params));
    w.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    await w.client.setLoggingLevel('error');
    await w.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' });
    await expect(w.client.callTool({ name: 'crash', arguments: {} })).rejects.toMatchObject({ code: -32000 });
    await eventuallyResolves(() => w.client.callTool({ name: 'echo', arguments: { message: 'back' } }));
    await w.client.callTool({ name: 'write_file', arguments: { path: '/docs/readme.txt', content: 'after restart' } });
    await w.client.callTool({ name: 'slow_task', arguments: { steps: 1, delayMs: 1 } }); // logs at info
    await eventuallyResolves(async () => {
      if (updates.length === 0) throw new Error('not yet');
    }, 3000);
    await new Promise((r) => setTimeout(r, 100));
    expect(updates).toEqual([{ uri: 'acme://files/docs/readme.txt' }]);
    expect(logs).toEqual([]); // level 'error' still applies after the restart
  });

  it('times out a hung call with -32001, cancels it upstream, reports timeout, and lives on', async () => {
    const outcomes: UpstreamOutcome[] = [];
    const w = await startStdioWardenWithClient({ timeouts: { callMs: 300 } }, { guard: { checkToolCall: async () => ({ kind: 'forward', onOutcome: (o) => void outcomes.push(o) }) } });
    closers.push(w.close);
    await expect(w.client.callTool({ name: 'hang', arguments: {} })).rejects.toMatchObject({ code: -32001 });
    expect(outcomes.map((o) => o.status)).toEqual(['timeout']);
    // The upstream received notifications/cancelled for the hung request.
    const stats = await eventuallyResolves(async () => {
      const r = await w.client.callTool({ name: 'server_stats', arguments: {} });
      if ((r.structuredContent as { cancelled: number }).cancelled < 1) throw new Error('not cancelled yet');
      return r.structuredContent;
    });
    expect(stats).toEqual({ cancelled: 1 });
    const echo = await w.client.callTool({ name: 'echo', arguments: { message: 'alive' } });
    expect(echo.content).toEqual([{ type: 'text', text: 'alive' }]);
  });
});

describe('upstream that cannot start', () => {
  it('answers initialize with -32603 and keeps serving', async () => {
    const w = await startRawStdioWarden({ upstreams: { ghost: { command: '/nonexistent/mcp-server' } }, timeouts: { initializeMs: 2000 } });
    closers.push(w.close);
    w.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) + '\n');
    const init = await w.waitFor((m) => m.id === 1);
    expect((init.error as { code: number }).code).toBe(-32603);
    w.send('{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    expect(await w.waitFor((m) => m.id === 2)).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
  });
});

describe('malformed input over stdio', () => {
  const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

  it('answers bad JSON with -32700, batches and non-messages with -32600, oversized with -32600, then still works', async () => {
    const w = await startRawStdioWarden({ limits: { maxMessageBytes: 2048 } });
    closers.push(w.close);
    w.send('{"jsonrpc": "2.0", "id": 5, "method": \n');
    await w.waitFor((m) => (m.error as { code: number } | undefined)?.code === -32700);
    w.send(`[${INIT},${INIT}]\n`);
    await w.waitFor((m) => (m.error as { code: number; message: string } | undefined)?.message.includes('batch') === true);
    w.send('{"jsonrpc":"1.0","id":3,"method":"ping"}\n');
    const wrongVersion = await w.waitFor((m) => m.id === 3);
    expect((wrongVersion.error as { code: number }).code).toBe(-32600);
    w.send(`{"jsonrpc":"2.0","id":4,"method":"ping","params":{"pad":"${'x'.repeat(5000)}"}}\n`);
    await w.waitFor((m) => (m.error as { message: string } | undefined)?.message.includes('exceeds') === true);
    expect(w.lines.filter((m) => (m as { error?: { code: number } }).error?.code === -32600)).toHaveLength(3);
    w.send(INIT + '\n');
    const init = await w.waitFor((m) => m.id === 1);
    expect((init.result as { serverInfo: { name: string } }).serverInfo.name).toBe('mcp-warden');
    w.send('{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    expect(await w.waitFor((m) => m.id === 2)).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
  });
});

describe('warden run (process)', () => {
  it('refuses to start without identity or dangerouslyAllowAnonymous (exit 3, names file and key)', () => {
    const file = writeTempConfig({ upstreams: { acme: { command: process.execPath, args: [ACME_SERVER] } } });
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [WARDEN_MAIN, 'run', '--config', file], { stdio: 'pipe' });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(3);
    expect(stderr).toContain(file);
    expect(stderr).toContain('dangerouslyAllowAnonymous');
  });

  it('exits 3 naming the key path on an invalid config', () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 1 } } });
    const run = () => execFileSync(process.execPath, [WARDEN_MAIN, 'run', '--config', file], { stdio: 'pipe' });
    expect(run).toThrow(/upstreams\.acme/);
  });

  it('survives an agent that stops reading its output (EPIPE) and exits 0', async () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: process.execPath, args: [ACME_SERVER] } } });
    const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', file], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) + '\n');
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    for (let i = 0; i < 50; i++) child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 10 + i, method: 'ping' }) + '\n');
    setTimeout(() => child.stdin.end(), 300);
    expect(await exited).toBe(0);
    expect(stderr).not.toContain('Unhandled');
  });

  it('stops its upstream children and exits 0 on SIGTERM', async () => {
    const tag = `tag-${randomUUID()}`;
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: process.execPath, args: [ACME_SERVER, tag] } } });
    const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', file], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: string[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c.toString()));
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) + '\n');
    await eventuallyResolves(async () => {
      if (!out.join('').includes('"id":1')) throw new Error('not initialized yet');
    });
    const running = execFileSync('ps', ['-eo', 'args']).toString();
    expect(running).toContain(tag);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await eventuallyResolves(async () => {
      if (execFileSync('ps', ['-eo', 'args']).toString().includes(tag)) throw new Error('child still running');
    });
    // stdout carried only protocol messages.
    for (const line of out.join('').split('\n').filter(Boolean)) expect(JSON.parse(line).jsonrpc).toBe('2.0');
  });
});

describe('malformed and oversized output from an upstream', () => {
  it('never forwards it, answers the upstream with -32700 / -32600, and keeps the call working', async () => {
    const noisy = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/noisy-server.mjs')] };
    const w = await startStdioWardenWithClient({ upstreams: { noisy }, limits: { maxUpstreamMessageBytes: 100_000 } });
    closers.push(w.close);
    const seen: unknown[] = [];
    w.client.fallbackNotificationHandler = async (n) => void seen.push(n);
    const result = await w.client.callTool({ name: 'noisy', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'noisy done' }]);
    const errors = await w.client.callTool({ name: 'errors_seen', arguments: {} });
    expect(JSON.parse((errors.content as Array<{ text: string }>)[0]!.text)).toEqual([-32700, -32600, -32600]);
    expect(seen).toEqual([]); // nothing of the garbage reached the agent
  });
});

describe('tool results JavaScript cannot round-trip', () => {
  // Valid JSON from the upstream: a number beyond double range (parsed as Infinity) and nesting
  // deeper than any recursive serialiser's stack. Either used to be able to end warden.
  it('answers both, reports an outcome for each with an audit digest, and lives on', async () => {
    const odd = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/odd-results-server.mjs')] };
    const outcomes: UpstreamOutcome[] = [];
    const guard = { checkToolCall: async () => ({ kind: 'forward' as const, onOutcome: (o: UpstreamOutcome) => void outcomes.push(o) }) };
    const w = await startStdioWardenWithClient({ upstreams: { odd }, limits: { maxUpstreamMessageBytes: 1_000_000 } }, { guard });
    closers.push(w.close);

    const big = await w.client.callTool({ name: 'huge_number', arguments: {} });
    expect(big.content).toEqual([{ type: 'text', text: 'big' }]);
    expect(big.structuredContent).toEqual({ n: null }); // as JSON.stringify renders Infinity
    await expect(w.client.callTool({ name: 'deep', arguments: {} })).rejects.toMatchObject({ code: -32603, message: expect.stringContaining('could not be relayed') });
    expect((await w.client.callTool({ name: 'echo', arguments: {} })).content).toEqual([{ type: 'text', text: 'still here' }]);

    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
    expect(outcomes[0]!.resultBytes).toBe(Buffer.byteLength(JSON.stringify(outcomes[0]!.result)));
    // The audit's result record can always be built: a digest of a sanitised copy where needed.
    for (const o of outcomes) expect(resultEvent('c', 's', o).resultDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('a request nested beyond the stack', () => {
  // Valid JSON, within the size limit, that no recursive serialiser can write back out: in HTTP
  // mode one such request used to be able to end warden for every agent.
  it('is answered with an error, never ends warden, and the session keeps working', async () => {
    const w = await startRawStdioWarden();
    closers.push(w.close);
    w.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) + '\n');
    await w.waitFor((m) => m.id === 1);
    w.send('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    const depth = 200_000;
    w.send(`{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"x","arguments":{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}}}\n`);
    const answer = await w.waitFor((m) => m.id === 2);
    expect((answer.error as { code: number }).code).toBe(-32000);
    w.send('{"jsonrpc":"2.0","id":3,"method":"tools/list"}\n');
    expect(((await w.waitFor((m) => m.id === 3)).result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
  });
});

