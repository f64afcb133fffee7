import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { connectStdio, type ClientOptions, type ConnectedClient } from './mcp-clients.js';
import { upstreams, WARDEN_MAIN } from './paths.js';

/** A fresh temporary directory for one test. */
export function tempDir(prefix = 'warden-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a warden config (YAML) to a temp file and returns its path. */
export function writeTempConfig(config: Record<string, unknown>, name = 'warden.yaml'): string {
  const file = join(tempDir(), name);
  writeFileSync(file, name.endsWith('.json') ? JSON.stringify(config) : stringify(config));
  return file;
}

/** A minimal anonymous config in front of the ACME server; override any section. */
export function acmeConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, logging: { level: 'warn' }, ...overrides };
}

/**
 * Spawns `node dist/src/cli/main.js run --config <temp file>` and connects an SDK Client to it
 * over stdio: exactly how an agent launches warden as its MCP server.
 */
export async function spawnWardenStdio(config: Record<string, unknown>, options: ClientOptions & { env?: Record<string, string> } = {}): Promise<ConnectedClient & { configFile: string }> {
  const configFile = writeTempConfig(config);
  const connected = await connectStdio(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], options);
  return { ...connected, configFile };
}
