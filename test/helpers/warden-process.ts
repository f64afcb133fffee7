import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { connectStdio, type ClientOptions, type ConnectedClient } from './mcp-clients.js';
import { transparentGuardrails, upstreams, WARDEN_MAIN } from './paths.js';

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
  return { dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, logging: { level: 'warn' }, ...transparentGuardrails(), ...overrides };
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

export interface WardenHttpProcess {
  /** `http://127.0.0.1:<port>/mcp` as reported by warden's start-up log line. */
  readonly url: string;
  readonly pid: number;
  /** Everything warden wrote to stderr (pino JSON lines). */
  readonly stderr: string[];
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawns `warden run --config <temp file>` listening on Streamable HTTP (port 0 unless the config
 * says otherwise) and resolves once it logged its URL. `listen.http` defaults to 127.0.0.1:0.
 */
export async function spawnWardenHttp(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<WardenHttpProcess> {
  const withListen = { listen: { stdio: false, http: { port: 0 } }, logging: { level: 'info' }, ...config };
  return spawnWardenHttpWithConfig(writeTempConfig(withListen), env);
}

/** `warden run --config <configFile>` (which listens on HTTP); resolves once warden logged its URL. */
export async function spawnWardenHttpWithConfig(configFile: string, env: Record<string, string> = {}): Promise<WardenHttpProcess> {
  const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`warden did not start: ${stderr.join('\n')}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        stderr.push(line);
        let http: string | undefined;
        try {
          http = (JSON.parse(line) as { http?: string }).http;
        } catch {
          // a plain-text line (a start-up error message)
        }
        if (http) {
          clearTimeout(timer);
          resolve(http);
        }
      }
    });
    void exited.then((code) => reject(new Error(`warden exited with ${code}: ${stderr.join('\n')}`)));
  });
  return {
    url,
    pid: child.pid!,
    stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
