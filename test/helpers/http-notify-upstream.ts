import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { createAnonymousAuthenticator } from '../../src/identity/anonymous-authenticator.js';
import { createAllowAllGuard } from '../../src/proxy/allow-all-guard.js';
import { startWarden } from '../../src/proxy/start-warden.js';
import { connectHttp } from './mcp-clients.js';
import { REPO_ROOT } from './paths.js';
import { createRecordingAudit } from './recording-audit.js';
import { tempDir } from './warden-process.js';

const SERVER = join(REPO_ROOT, 'test/fixtures/proxy/flaky-stream-server.mjs');

/** One GET or DELETE the flaky server received, or a notification it held (see the server's header). */
export interface FlakyRequest {
  readonly method: 'GET' | 'DELETE' | 'NOTIFY' | 'KEPT' | 'KEPT_CLOSED';
  readonly status: number | null;
  readonly session: string | null;
  readonly lastEventId: string | null;
  /** NOTIFY: the notification's method. */
  readonly notification?: string;
}

export interface FlakyStreamServer {
  readonly url: string;
  /** Every GET and DELETE so far, in order. */
  requests(): FlakyRequest[];
  gets(): FlakyRequest[];
  stop(): Promise<void>;
}

/** Starts test/fixtures/proxy/flaky-stream-server.mjs as its own process (env as it documents). */
export async function startFlakyStreamServer(env: Record<string, string>): Promise<FlakyStreamServer> {
  const logFile = join(tempDir('warden-flaky-'), 'requests.jsonl');
  const child = spawn(process.execPath, [SERVER], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env, FLAKY_LOG: logFile } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('flaky-stream-server did not start')), 10_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then(() => reject(new Error('flaky-stream-server exited')));
  });
  const requests = (): FlakyRequest[] =>
    existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FlakyRequest) : [];
  return {
    url,
    requests,
    gets: () => requests().filter((r) => r.method === 'GET'),
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}

/**
 * Warden in this process, on HTTP, in front of one HTTP upstream named `flaky`: every audit event
 * it records and every log line it writes (pino JSON, written synchronously) are kept.
 */
export async function startWardenBefore(upstreamUrl: string, overrides: Record<string, unknown> = {}) {
  const audit = createRecordingAudit();
  const logs: Array<Record<string, unknown> & { level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as (typeof logs)[number]);
      done();
    },
  });
  const config = WardenConfigSchema.parse({
    upstreams: { flaky: { url: upstreamUrl } },
    dangerouslyAllowAnonymous: true,
    listen: { stdio: false, http: { port: 0 } },
    ...overrides,
  });
  const handle = await startWarden({
    config, configFile: 'test-config', authenticator: createAnonymousAuthenticator(), guard: createAllowAllGuard(), audit, logger: pino({ level: 'debug' }, sink),
  });
  /** Log lines about upstream `flaky` at `level` or above. */
  const logLines = (level: number) => logs.filter((l) => l.upstream === 'flaky' && l.level >= level);
  /** Warden's open agent sessions (one closes only after its upstream transports are closed). */
  const sessions = () => handle.listSessions().length;
  return { url: handle.httpAddress!.url, audit, logLines, sessions, close: () => handle.close() };
}

/** An SDK agent on warden that subscribed to `uri` and records every `resources/updated` it gets. */
export async function subscribedAgent(wardenUrl: string, uri: string) {
  const updated: string[] = [];
  const agent = await connectHttp(wardenUrl, {
    setup: (client) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri)),
  });
  await agent.client.subscribeResource({ uri });
  return Object.assign(agent, { updated });
}

/**
 * The flaky server (`serverEnv` as it documents) with an in-process warden in front of it
 * (startWardenBefore with `overrides`), both pushed on `closers` to be stopped after the test.
 */
export async function flakyBehindWarden(closers: Array<() => unknown>, serverEnv: Record<string, string>, overrides: Record<string, unknown> = {}) {
  const server = await startFlakyStreamServer(serverEnv);
  closers.push(server.stop);
  const warden = await startWardenBefore(server.url, overrides);
  closers.push(warden.close);
  return { server, warden };
}
