import { connectStdio, type ClientOptions, type ConnectedClient } from './mcp-clients.js';
import { spawnWardenStdio } from './warden-process.js';
import { transparentGuardrails } from './paths.js';

export interface Pair {
  readonly direct: ConnectedClient;
  readonly warden: ConnectedClient;
  close(): Promise<void>;
}

/**
 * Connects two identical SDK clients: one straight to an upstream server, one through warden
 * (spawned over stdio, anonymous) in front of the same server. For "sees the same" tests.
 */
export async function directAndWarden(upstream: { command: string; args: string[] }, options: ClientOptions = {}, wardenConfig: Record<string, unknown> = {}): Promise<Pair> {
  const direct = await connectStdio(upstream.command, upstream.args, options);
  const warden = await spawnWardenStdio({ dangerouslyAllowAnonymous: true, upstreams: { only: upstream }, logging: { level: 'warn' }, ...transparentGuardrails(), ...wardenConfig }, options);
  return { direct, warden, close: async () => void (await Promise.allSettled([direct.close(), warden.close()])) };
}
