import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

export interface ConnectedClient {
  readonly client: Client;
  /** Lines the spawned process wrote to stderr (stdio only). */
  readonly stderr: string[];
  close(): Promise<void>;
}

export interface ClientOptions {
  readonly capabilities?: ClientCapabilities;
  readonly name?: string;
  /** Install handlers (sampling, roots...) before connecting. */
  readonly setup?: (client: Client) => void;
}

function newClient(options: ClientOptions): Client {
  const client = new Client({ name: options.name ?? 'test-agent', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  options.setup?.(client);
  return client;
}

/** Spawns `command args` and connects a real SDK Client to it over stdio. */
export async function connectStdio(command: string, args: string[], options: ClientOptions & { env?: Record<string, string> } = {}): Promise<ConnectedClient> {
  const transport = new StdioClientTransport({ command, args, stderr: 'pipe', env: { ...getDefaultEnvironment(), ...(options.env ?? {}) } });
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const client = newClient(options);
  await client.connect(transport);
  return { client, stderr, close: () => client.close() };
}

/** Connects a real SDK Client over Streamable HTTP, optionally with a bearer token. */
export async function connectHttp(url: string, options: ClientOptions & { token?: string; headers?: Record<string, string> } = {}): Promise<ConnectedClient & { transport: StreamableHTTPClientTransport }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = newClient(options);
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: [],
    close: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}
