import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { WARDEN_MAIN } from './paths.js';

/** A `warden run` launched the way an agent launches it (stdio), from a chosen working directory. */
export interface OpsWarden {
  readonly client: Client;
  /** Everything warden wrote to stderr so far. */
  readonly stderr: () => string;
  close(): Promise<void>;
}

/** A connect that failed: warden may still be writing its log (pino is asynchronous), so stderr is live. */
export type StartFailure = Error & { readonly stderr: () => string; readonly close: () => Promise<void> };

/**
 * Spawns `warden run --config <configFile>` with `cwd` and connects an SDK client over stdio.
 * A failed connect rejects with a {@link StartFailure}: read `stderr()` until the line you expect
 * arrives, then `close()`.
 */
export async function startStdioWarden(configFile: string, cwd: string): Promise<OpsWarden> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [WARDEN_MAIN, 'run', '--config', configFile], cwd, stderr: 'pipe', env: getDefaultEnvironment() });
  let err = '';
  transport.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const client = new Client({ name: 'ops-test', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    throw Object.assign(e as Error, { stderr: () => err, close: () => client.close().catch(() => undefined) });
  }
  return { client, stderr: () => err, close: () => client.close() };
}

/** Runs `warden run --config <file>` to its end (a start-up failure); stdin stays open like an agent's. */
export function runUntilExit(configFile: string, timeoutMs = 20_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

/** Polls `probe` every 25 ms until it returns true (or throws after `timeoutMs`). */
export async function until(probe: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
