import { request, type ClientRequest } from 'node:http';
import { ANSWER_MS } from './hostile-raw-agent.js';

type Message = Record<string, unknown>;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** JSON-RPC messages in the body (one JSON body, or every SSE `data:` line). */
  readonly messages: Message[];
  readonly body: string;
}

/**
 * Sends one raw request to warden's MCP endpoint and reads the whole answer, failing when it does
 * not end within ANSWER_MS (a caller left without an answer). The body is sent as given.
 */
export function mcpPost(url: string, body: string, headers: Record<string, string> = {}, options: { method?: string; path?: string } = {}): Promise<HttpAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'POST',
        path: options.path ?? target.pathname,
        headers: { host: target.host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, messages: parseMessages(text), body: text });
        });
      },
    );
    const timer = answerDeadline(req, reject);
    req.end(body);
  });
}

/** Fails the request (destroyed, rejected) when no complete answer arrives within ANSWER_MS, or on a socket error. */
function answerDeadline(req: ClientRequest, reject: (err: Error) => void): NodeJS.Timeout {
  const timer = setTimeout(() => {
    req.destroy();
    reject(new Error(`no complete HTTP answer within ${ANSWER_MS} ms`));
  }, ANSWER_MS);
  req.on('error', (err) => {
    clearTimeout(timer);
    reject(err);
  });
  return timer;
}

function parseMessages(text: string): Message[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('{')) return [JSON.parse(trimmed) as Message];
  return trimmed
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as Message);
}

/**
 * Opens an MCP session on warden over HTTP; returns its id and a way to send more requests on it.
 * `auth` headers (e.g. `authorization`) go with every request of the session.
 */
export async function openHttpSession(url: string, auth: Record<string, string> = {}) {
  const init = await mcpPost(url, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile-http', version: '1' } } }), auth);
  const sessionId = init.headers['mcp-session-id'] as string;
  if (init.status !== 200 || !sessionId) throw new Error(`initialize failed: ${init.status} ${init.body.slice(0, 300)}`);
  const headers = { ...auth, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  await mcpPost(url, '{"jsonrpc":"2.0","method":"notifications/initialized"}', headers);
  let next = 0;
  return {
    sessionId,
    headers,
    /** Posts a raw body on the session. */
    post: (body: string, extra: Record<string, string> = {}) => mcpPost(url, body, { ...headers, ...extra }),
    /** Sends a request and returns the one answer for its id (fails when there is none). */
    request: async (method: string, paramsJson = '{}'): Promise<Message> => {
      const id = `h${++next}`;
      const answer = await mcpPost(url, `{"jsonrpc":"2.0","id":"${id}","method":${JSON.stringify(method)},"params":${paramsJson}}`, headers);
      const found = answer.messages.filter((m) => m.id === id && !('method' in m));
      if (found.length !== 1) throw new Error(`expected one answer for ${id}, got ${found.length} (HTTP ${answer.status})`);
      return found[0]!;
    },
  };
}

/** Any raw HTTP request (any method and request target) to a warden listener; fails on no answer. */
export function rawRequest(base: string, o: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  const target = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method: o.method, path: o.path, headers: { host: target.host, ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = answerDeadline(req, reject);
    req.end(o.body === '' ? undefined : o.body);
  });
}
