import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface SessionServer {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  readonly port: number;
  /** The params of every `initialize` this server accepted, in order. */
  readonly initializes: Array<Record<string, unknown>>;
  /** When each of those arrived (`performance.now()`). */
  readonly initializedAt: number[];
  /** Session ids this server handed out, in order. */
  readonly sessionIds: string[];
  /** Session ids of requests this server answered with 404 (unknown session). */
  readonly notFound: string[];
  /** Tool calls that reached this server, by tool name. */
  readonly calls: string[];
  /** `METHOD path` of requests to any path but /mcp (answered 404). */
  readonly strays: string[];
  /** Forgets every session id (as a server that expired them): the next request with one gets 404. */
  forgetSessions(): void;
  /** Ends every session cleanly (its open streams end, no connection is cut) and forgets it. */
  endSessions(): Promise<void>;
  /** Stops like a crashed process: every open connection is cut, then the listener closes. */
  stop(): Promise<void>;
}

export interface SessionServerOptions {
  /** Listen here (to come back on the port of a stopped server); default any free port. */
  readonly port?: number;
  /** false: hand out session ids but never remember them (a load balancer without sticky sessions). */
  readonly keepSessions?: boolean;
  /**
   * One SDK transport for the whole server, as the SDK's simplest examples are written. Such a
   * server, restarted, answers a request carrying an old session id with 400 "Bad Request:
   * Server not initialized" rather than the specification's 404.
   */
  readonly singleTransport?: boolean;
}

/**
 * A real Streamable HTTP MCP server (SDK McpServer + StreamableHTTPServerTransport, one per
 * session) in this process, that can lose its sessions. Unknown `Mcp-Session-Id` gets 404 with
 * JSON-RPC -32001, as MCP 2025-11-25 requires. Tools: `echo`, `whoami` (names `generation`),
 * `hang` (answers only when cancelled). Only `/mcp` is served; other paths get a bare 404.
 */
export async function startSessionServer(generation: string, options: SessionServerOptions = {}): Promise<SessionServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const transports = new Set<StreamableHTTPServerTransport>();
  const initializes: Array<Record<string, unknown>> = [];
  const initializedAt: number[] = [];
  const sessionIds: string[] = [];
  const notFound: string[] = [];
  const calls: string[] = [];
  const strays: string[] = [];
  const http = createServer((req, res) => {
    void route(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== '/mcp') {
      strays.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (options.singleTransport) return serveSingle(req, res, body);
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const transport = sessions.get(sid);
      if (transport) return transport.handleRequest(req, res, body);
      notFound.push(sid);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: no session' } }));
      return;
    }
    initializes.push(body.params as Record<string, unknown>);
    initializedAt.push(performance.now());
    const remember = (id: string): void => {
      if (options.keepSessions !== false) sessions.set(id, transport);
      sessionIds.push(id);
    };
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: remember });
    transports.add(transport);
    await toolServer(generation, calls).connect(transport);
    await transport.handleRequest(req, res, body);
  }
  let single: StreamableHTTPServerTransport | undefined;
  async function serveSingle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (!single) {
      single = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void sessionIds.push(id) });
      transports.add(single);
      await toolServer(generation, calls).connect(single);
    }
    if (isInitializeRequest(body)) {
      initializes.push(body.params as Record<string, unknown>);
      initializedAt.push(performance.now());
    }
    await single.handleRequest(req, res, body);
  }
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    port: bound,
    initializes,
    initializedAt,
    sessionIds,
    notFound,
    calls,
    strays,
    forgetSessions: () => sessions.clear(),
    endSessions: async () => {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((t) => t.close()));
    },
    stop: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      sessions.clear();
      await Promise.all([...transports].map((t) => t.close().catch(() => undefined)));
    },
  };
}

function toolServer(generation: string, calls: string[]): McpServer {
  const server = new McpServer({ name: 'session-server', version: '1.0.0' });
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  server.registerTool('echo', { description: 'Echoes a message', inputSchema: { message: z.string() } }, async ({ message }) => {
    calls.push('echo');
    return text(message);
  });
  server.registerTool('whoami', { description: 'Names the server generation', inputSchema: {} }, async () => {
    calls.push('whoami');
    return text(generation);
  });
  server.registerTool('hang', { description: 'Never answers unless cancelled', inputSchema: {} }, async (_args, extra) => {
    calls.push('hang');
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
    return text('cancelled');
  });
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  return raw ? (JSON.parse(raw) as unknown) : undefined;
}
