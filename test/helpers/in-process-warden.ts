import { PassThrough } from 'node:stream';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import type { AuditSink } from '../../src/audit/audit-sink.js';
import type { Authenticator } from '../../src/core/authenticator.js';
import type { Guard } from '../../src/core/tool-call.js';
import { createAnonymousAuthenticator } from '../../src/identity/anonymous-authenticator.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createAllowAllGuard } from '../../src/proxy/allow-all-guard.js';
import { startWarden, type WardenHandle } from '../../src/proxy/start-warden.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ClientOptions } from './mcp-clients.js';
import { upstreams } from './paths.js';
import { StreamClientTransport } from './stream-client-transport.js';

export interface InProcessOptions {
  readonly authenticator?: Authenticator;
  readonly guard?: Guard;
  readonly audit?: AuditSink;
}

/**
 * Starts warden in this process, listening on Streamable HTTP on a free loopback port (no stdio).
 * `config` is raw config data (validated like a file); upstreams default to the ACME server.
 */
export async function startHttpWarden(config: Record<string, unknown> = {}, options: InProcessOptions = {}): Promise<WardenHandle & { url: string }> {
  const parsed = WardenConfigSchema.parse({
    upstreams: { acme: upstreams.acme() },
    dangerouslyAllowAnonymous: true,
    listen: { stdio: false, http: { port: 0 } },
    ...config,
  });
  const handle = await startWarden({
    config: parsed,
    configFile: 'test-config',
    authenticator: options.authenticator ?? createAnonymousAuthenticator(),
    guard: options.guard ?? createAllowAllGuard(),
    audit: options.audit,
    logger: silentLogger(),
  });
  return Object.assign(handle, { url: handle.httpAddress!.url });
}

/** Parses every newline-delimited JSON message written to `output` into the returned array, as it arrives. */
export function collectJsonLines<T = unknown>(output: NodeJS.ReadableStream): T[] {
  const lines: T[] = [];
  let pending = '';
  output.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const p of parts) if (p) lines.push(JSON.parse(p) as T);
  });
  return lines;
}

/**
 * Starts warden in this process in stdio mode over in-memory streams: `send` writes raw bytes as
 * the agent would, `lines` collects every line warden wrote back. For framing tests.
 */
export async function startRawStdioWarden(config: Record<string, unknown> = {}, options: InProcessOptions = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const lines: unknown[] = collectJsonLines(output);
  const parsed = WardenConfigSchema.parse({ upstreams: { acme: upstreams.acme() }, dangerouslyAllowAnonymous: true, ...config });
  const handle = await startWarden({
    config: parsed, configFile: 'test-config', stdio: { input, output },
    authenticator: options.authenticator ?? createAnonymousAuthenticator(),
    guard: options.guard ?? createAllowAllGuard(), audit: options.audit, logger: silentLogger(),
  });
  const waitFor = async (predicate: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find((l) => predicate(l as Record<string, unknown>));
      if (found) return found as Record<string, unknown>;
      if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { handle, lines, send: (text: string) => input.write(text), waitFor, close: () => handle.close() };
}

/**
 * Starts warden in this process in stdio mode over in-memory streams and connects a real SDK
 * Client to it: lets a test inject its own Guard/Authenticator into a stdio session.
 */
export async function startStdioWardenWithClient(config: Record<string, unknown> = {}, options: InProcessOptions & { client?: ClientOptions } = {}) {
  const toWarden = new PassThrough();
  const fromWarden = new PassThrough();
  const parsed = WardenConfigSchema.parse({ upstreams: { acme: upstreams.acme() }, dangerouslyAllowAnonymous: true, ...config });
  const handle = await startWarden({
    config: parsed, configFile: 'test-config', stdio: { input: toWarden, output: fromWarden },
    authenticator: options.authenticator ?? createAnonymousAuthenticator(),
    guard: options.guard ?? createAllowAllGuard(), audit: options.audit, logger: silentLogger(),
  });
  const client = new Client({ name: options.client?.name ?? 'test-agent', version: '1.0.0' }, { capabilities: options.client?.capabilities ?? {} });
  options.client?.setup?.(client);
  await client.connect(new StreamClientTransport(fromWarden, toWarden));
  return { handle, client, close: async () => { await client.close(); await handle.close(); } };
}
