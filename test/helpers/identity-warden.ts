import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { connectHttp, connectStdio, type ClientOptions, type ConnectedClient } from './mcp-clients.js';
import { WARDEN_MAIN } from './paths.js';
import { spawnWardenHttpWithConfig } from './warden-process.js';

/** Writes `config` as `<dir>/warden.yaml` (relative paths then resolve in `dir`). */
export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** The URL logged in a pino line with `msg` (e.g. 'security event receiver listening'). */
export function loggedUrl(stderr: readonly string[], msg: string): string | undefined {
  for (const line of stderr) {
    try {
      const rec = JSON.parse(line) as { msg?: string; url?: string };
      if (rec.msg === msg && rec.url) return rec.url;
    } catch {
      // not a pino line
    }
  }
  return undefined;
}

/** `warden run` as an agent's stdio MCP server, with a real SDK Client connected to it. */
export async function startStdioWarden(dir: string, config: Record<string, unknown>, options: ClientOptions & { env?: Record<string, string> } = {}): Promise<ConnectedClient & { configFile: string }> {
  const configFile = writeConfig(dir, config);
  const connected = await connectStdio(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], options);
  return { ...connected, configFile };
}

export interface HttpWarden {
  readonly url: string;
  /** The `warden run` process (e.g. to read its memory from /proc). */
  readonly pid: number;
  readonly stderr: string[];
  readonly configFile: string;
  /** Connects a real SDK Client with this bearer token. */
  connect(token: string, options?: ClientOptions): Promise<Awaited<ReturnType<typeof connectHttp>>>;
  stop(): Promise<number | null>;
}

/** `warden run` listening on Streamable HTTP (127.0.0.1, free port); resolves once it logged its URL. */
export async function startHttpWarden(dir: string, config: Record<string, unknown>): Promise<HttpWarden> {
  const configFile = writeConfig(dir, { ...config, listen: { stdio: false, http: { port: 0 } } });
  const warden = await spawnWardenHttpWithConfig(configFile);
  return {
    url: warden.url,
    pid: warden.pid,
    stderr: warden.stderr,
    configFile,
    connect: (token, options = {}) => connectHttp(warden.url, { ...options, token }),
    stop: warden.stop,
  };
}

/** Runs `warden <args>` to completion (a real CLI process) and returns its exit code and output. */
export function runWardenCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WARDEN_MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000, ...(cwd ? { cwd } : {}) }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}
