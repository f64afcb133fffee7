import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deepJson, hostileUpstream, rawAgent } from '../helpers/hostile-raw-agent.js';
import { mcpPost, openHttpSession } from '../helpers/hostile-http.js';
import { startHttpWarden } from '../helpers/in-process-warden.js';
import { upstreams } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

type Agent = Awaited<ReturnType<typeof rawAgent>>;
type Answer = Record<string, unknown>;

/** One hostile request line (its id is filled in) and what its one answer must be. */
interface Case {
  readonly attack: string;
  readonly line: (id: string) => string;
  /** 'result', 'error', or an exact JSON-RPC error code. */
  readonly answer: 'result' | 'error' | number;
}

const rpc = (id: string, method: string, paramsJson: string): string => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${paramsJson}}`;
const call = (name: string, argsJson: string) => (id: string) => rpc(id, 'tools/call', `{"name":${JSON.stringify(name)},"arguments":${argsJson}}`);

/** Requests an agent may send: each must be answered exactly once, and warden must keep serving. */
const AGENT_REQUESTS: Case[] = [
  { attack: 'tools/call params that are a string', line: (id) => rpc(id, 'tools/call', '"echo"'), answer: -32600 },
  { attack: 'tools/call params that are an array', line: (id) => rpc(id, 'tools/call', '["echo",{}]'), answer: -32600 },
  { attack: 'tools/call params that are null', line: (id) => rpc(id, 'tools/call', 'null'), answer: -32600 },
  { attack: 'a tool name whose toString is not callable', line: (id) => rpc(id, 'tools/call', '{"name":{"toString":1},"arguments":{}}'), answer: -32602 },
  { attack: 'arguments that are an array', line: call('echo', '[1,2]'), answer: -32602 },
  { attack: 'arguments that are a string', line: call('echo', '"x"'), answer: -32602 },
  { attack: 'a tool named __proto__', line: call('__proto__', '{}'), answer: -32602 },
  { attack: 'a tool named constructor', line: call('constructor', '{}'), answer: -32602 },
  { attack: 'a tool named hasOwnProperty', line: call('hasOwnProperty', '{}'), answer: -32602 },
  { attack: 'a tool name that is a lone surrogate', line: call('\ud800', '{}'), answer: -32602 },
  { attack: 'a 100 kB tool name', line: call('x'.repeat(100_000), '{}'), answer: -32602 },
  { attack: '__proto__ and constructor keys in arguments', line: call('echo', '{"message":"hi","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'), answer: 'result' },
  { attack: 'a number beyond double range in arguments', line: call('echo', '{"message":"hi","n":1e400}'), answer: 'result' },
  { attack: 'negative zero and lone surrogates in arguments', line: call('echo', '{"message":"\\ud800\\udfff\\udc00","z":-0}'), answer: 'result' },
  { attack: 'a 3 MB string argument', line: call('echo', JSON.stringify({ message: 'x'.repeat(3_000_000) })), answer: 'result' },
  { attack: 'arguments nested 5,000 levels (past JSON.stringify)', line: call('echo', `{"message":"hi","d":${deepJson(5_000)}}`), answer: 'error' },
  { attack: 'arguments nested 200,000 levels', line: call('echo', `{"message":"hi","d":${deepJson(200_000)}}`), answer: 'error' },
  { attack: 'a progress token named __proto__', line: (id) => rpc(id, 'tools/call', '{"name":"echo","arguments":{"message":"t"},"_meta":{"progressToken":"__proto__"}}'), answer: 'result' },
  { attack: 'a method named __proto__', line: (id) => rpc(id, '__proto__', '{}'), answer: -32601 },
  { attack: 'a method named constructor', line: (id) => rpc(id, 'constructor', '{}'), answer: -32601 },
  { attack: 'a method named toString', line: (id) => rpc(id, 'toString', '{}'), answer: -32601 },
  { attack: 'a tools/list cursor that is an object', line: (id) => rpc(id, 'tools/list', '{"cursor":{"toString":1}}'), answer: 'result' },
  { attack: 'a resources/read uri that is an object', line: (id) => rpc(id, 'resources/read', '{"uri":{"toString":1}}'), answer: 'error' },
  { attack: 'logging/setLevel with a nonsense level', line: (id) => rpc(id, 'logging/setLevel', '{"level":{"__proto__":1}}'), answer: 'error' },
  { attack: 'a prompts/get nested 5,000 levels', line: (id) => rpc(id, 'prompts/get', `{"name":"x","arguments":{"d":${deepJson(5_000)}}}`), answer: 'error' },
  { attack: 'a second initialize (would start every upstream again)', line: (id) => rpc(id, 'initialize', '{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"again","version":"1"}}'), answer: -32600 },
];

/** Lines without a request id: no answer is due (or only an id-less error), warden keeps serving. */
const AGENT_LINES: Array<[string, string]> = [
  ['a cancellation naming an id whose toString is not callable', '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"toString":1}}}'],
  ['a cancellation with a null id and an object reason', '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":null,"reason":{"toString":1}}}'],
  ['progress with a token whose toString is not callable', '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":{"toString":1},"progress":1e400}}'],
  ['a response to a server request that was never made', '{"jsonrpc":"2.0","id":"w999","result":{}}'],
  ['a response with id __proto__', '{"jsonrpc":"2.0","id":"__proto__","error":{"code":1,"message":"x"}}'],
  ['a notification nested 200,000 levels', `{"jsonrpc":"2.0","method":"notifications/roots/list_changed","params":{"d":${deepJson(200_000)}}}`],
  ['an id of 1e400 (Infinity)', '{"jsonrpc":"2.0","id":1e400,"method":"ping"}'],
  ['an object as id', '{"jsonrpc":"2.0","id":{"toString":1},"method":"ping"}'],
  ['a batch', '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'],
  ['a bare JSON value', '1e400'],
  ['a BOM before the message and a lone surrogate in the method', '\ufeff{"jsonrpc":"2.0","method":"x\udc00"}'],
];

describe('a request the upstream silently drops', () => {
  it('a progress token that is an object: the upstream SDK drops the request, warden\'s call timeout answers -32001', async () => {
    const a = await rawAgent({ timeouts: { callMs: 300, requestMs: 300 } });
    try {
      expect(await a.init()).toHaveProperty('result');
      const id = 'object-token';
      const answer = await a.exchange(rpc(id, 'tools/call', '{"name":"echo","arguments":{"message":"t"},"_meta":{"progressToken":{"toString":1}}}'), id);
      expect((answer.error as { code: number }).code).toBe(-32001);
      expect(await a.alive()).toBe(true);
      expect(a.answersFor(id)).toHaveLength(1);
    } finally {
      await a.close();
    }
  });
});

describe('hostile requests from an agent over stdio (one upstream)', () => {
  let a: Agent;
  let callLog: string;
  beforeAll(async () => {
    callLog = join(tempDir(), 'calls.jsonl');
    // Generous timeouts: the 3 MB case goes through warden and the upstream twice, slow on a loaded machine.
    a = await rawAgent({ upstreams: { acme: { ...upstreams.acme(), env: { ACME_CALL_LOG: callLog } } }, timeouts: { callMs: 8_000, requestMs: 8_000 } });
    expect(await a.init()).toHaveProperty('result');
  });
  afterAll(() => a.close());

  for (const c of AGENT_REQUESTS) {
    it(`answers ${c.attack} exactly once and keeps serving`, async () => {
      const id = `case-${AGENT_REQUESTS.indexOf(c)}`;
      const answer = await a.exchange(c.line(id), id);
      if (c.answer === 'result') expect(answer).toHaveProperty('result');
      else expect(answer).toHaveProperty('error');
      if (typeof c.answer === 'number') expect((answer.error as { code: number }).code).toBe(c.answer);
      expect(await a.alive()).toBe(true);
      expect(a.answersFor(id)).toHaveLength(1);
      expect(({} as Answer).polluted).toBeUndefined();
    });
  }

  for (const [attack, line] of AGENT_LINES) {
    it(`survives ${attack}`, async () => {
      a.fire(line);
      expect(await a.alive()).toBe(true);
      expect(({} as Answer).polluted).toBeUndefined();
    });
  }

  it('starts its upstreams once: repeated initialize lines spawn no process', async () => {
    const children = (): number => execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).trim().split('\n').length;
    const before = children();
    for (let i = 0; i < 3; i++) {
      expect((await a.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'again', version: '1' } })).error).toMatchObject({ code: -32600 });
    }
    expect(children()).toBe(before);
    expect(await a.alive()).toBe(true);
  });

  it('forwarded only calls that named a listed tool with object arguments, none of the nested ones', () => {
    const calls = existsSync(callLog) ? readFileSync(callLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string; arguments: Record<string, unknown> }) : [];
    expect(calls.map((c) => c.tool)).toEqual(['echo', 'echo', 'echo', 'echo', 'echo']);
    expect(calls.some((c) => 'd' in c.arguments)).toBe(false);
  });
});

describe('hostile requests from an agent over stdio (several upstreams)', () => {
  it('forwards methods named like Object.prototype members instead of inventing a list answer', async () => {
    const a = await rawAgent({ upstreams: { acme: upstreams.acme(), hostile: hostileUpstream() } });
    try {
      expect(await a.init()).toHaveProperty('result');
      for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        const answer = await a.request(method, {});
        expect(answer.error).toMatchObject({ code: -32601 });
      }
      expect(await a.alive()).toBe(true);
    } finally {
      await a.close();
    }
  });
});

/** Raw HTTP requests to warden's MCP endpoint, each answered (any status) without a hang. */
describe('hostile requests from an agent over Streamable HTTP', () => {
  let w: Awaited<ReturnType<typeof startHttpWarden>>;
  let s: Awaited<ReturnType<typeof openHttpSession>>;
  let callLog: string;
  beforeAll(async () => {
    callLog = join(tempDir(), 'calls.jsonl');
    w = await startHttpWarden({ upstreams: { acme: { ...upstreams.acme(), env: { ACME_CALL_LOG: callLog } } } });
    s = await openHttpSession(w.url);
  });
  afterAll(() => w.close());

  const sessionless: Array<[string, string, number]> = [
    ['a body of 1e400', '1e400', 400],
    ['a batch', '[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}]', 400],
    ['a body that is not JSON', '{"jsonrpc":', 400],
    ['an object id', '{"jsonrpc":"2.0","id":{"toString":1},"method":"initialize","params":{}}', 400],
    ['an initialize without params', '{"jsonrpc":"2.0","id":1,"method":"initialize"}', 400],
    ['a tools/call without a session', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}', 400],
  ];
  for (const [attack, body, status] of sessionless) {
    it(`answers ${attack} without a session with HTTP ${status}`, async () => {
      expect((await mcpPost(w.url, body)).status).toBe(status);
      expect(await s.request('ping')).toHaveProperty('result');
    });
  }

  const onSession: Array<[string, string, 'result' | 'error']> = [
    ['__proto__ keys in arguments', '{"name":"echo","arguments":{"message":"hi","__proto__":{"polluted":1}}}', 'result'],
    ['a number beyond double range in arguments', '{"name":"echo","arguments":{"message":"hi","n":1e400}}', 'result'],
    ['arguments nested 5,000 levels', `{"name":"echo","arguments":{"message":"hi","d":${deepJson(5_000)}}}`, 'error'],
    ['arguments nested 200,000 levels', `{"name":"echo","arguments":{"message":"hi","d":${deepJson(200_000)}}}`, 'error'],
    ['a tool named constructor', '{"name":"constructor","arguments":{}}', 'error'],
    ['a tool name that is an object', '{"name":{"toString":1},"arguments":{}}', 'error'],
  ];
  for (const [attack, params, kind] of onSession) {
    it(`answers a tools/call with ${attack} exactly once on the session`, async () => {
      const answer = await s.request('tools/call', params);
      expect(answer).toHaveProperty(kind);
      expect(await s.request('ping')).toHaveProperty('result');
      expect(({} as Answer).polluted).toBeUndefined();
    });
  }

  const oddRequests: Array<[string, () => Promise<{ status: number }>]> = [
    ['a second initialize on the session', () => s.post('{"jsonrpc":"2.0","id":"again","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}')],
    ['a cancellation naming an object id', () => s.post('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"toString":1}}}')],
    ['an answer to a server request never made', () => s.post('{"jsonrpc":"2.0","id":"w999","result":{}}')],
    ['a session id of __proto__', () => mcpPost(w.url, '{"jsonrpc":"2.0","id":1,"method":"ping"}', { 'mcp-session-id': '__proto__' })],
    ['a 16 kB session id', () => mcpPost(w.url, '{"jsonrpc":"2.0","id":1,"method":"ping"}', { 'mcp-session-id': 'x'.repeat(16_000) })],
    ['a nonsense protocol version header', () => s.post('{"jsonrpc":"2.0","id":"v","method":"ping"}', { 'mcp-protocol-version': 'x'.repeat(300) })],
    ['a text/plain body', () => s.post('{"jsonrpc":"2.0","id":"t","method":"ping"}', { 'content-type': 'text/plain' })],
    ['no Accept header', () => s.post('{"jsonrpc":"2.0","id":"a","method":"ping"}', { accept: '' })],
    ['a PUT', () => mcpPost(w.url, '{}', s.headers, { method: 'PUT' })],
    ['a request target of //', () => mcpPost(w.url, '{}', s.headers, { path: '//' })],
    ['a request target of /mcp/../mcp?x=%', () => mcpPost(w.url, '{"jsonrpc":"2.0","id":"p","method":"ping"}', s.headers, { path: '/mcp/../mcp?x=%' })],
    ['a GET of a path that is not /mcp', () => mcpPost(w.url, '', {}, { method: 'GET', path: '/%ZZ' })],
  ];
  for (const [attack, send] of oddRequests) {
    it(`answers ${attack} and keeps the session serving`, async () => {
      const res = await send();
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(await s.request('ping')).toHaveProperty('result');
    });
  }

  it('forwarded only the echo calls that were not nested beyond the stack', () => {
    const calls = readFileSync(callLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string; arguments: Record<string, unknown> });
    expect(calls.map((c) => c.tool)).toEqual(['echo', 'echo']);
  });
});
