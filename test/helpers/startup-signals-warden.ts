import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readAudit, type AuditLine } from './audit-e2e-warden.js';
import { TRANSPARENT_POLICY, WARDEN_MAIN, REPO_ROOT } from './paths.js';
import { until } from './progress.js';
import { tempDir } from './warden-process.js';

/** The stdio upstream that never answers `initialize` (a plain .mjs, no build needed). */
export const NEVER_INITIALIZES_SERVER = join(REPO_ROOT, 'test/fixtures/startup-signals/never-initializes-server.mjs');

/** One scenario's folder: config, audit log (and its checkpoint and lock), upstream pid file. */
export interface ScenarioDir {
  readonly dir: string;
  readonly configFile: string;
  readonly auditFile: string;
  readonly checkpointFile: string;
  readonly lockFile: string;
  readonly pidFile: string;
}

export function scenarioDir(): ScenarioDir {
  const dir = tempDir('warden-startup-signals-');
  return {
    dir,
    configFile: join(dir, 'warden.yaml'),
    auditFile: join(dir, 'audit.jsonl'),
    checkpointFile: join(dir, 'audit.checkpoint.json'),
    lockFile: join(dir, 'audit.jsonl.lock'),
    pidFile: join(dir, 'upstream.pid'),
  };
}

/** Writes a config around the folder's audit file; `sections` add or replace top-level keys. */
export function writeScenarioConfig(d: ScenarioDir, sections: Record<string, unknown>): string {
  const config = {
    logging: { level: 'info' },
    policy: { files: [TRANSPARENT_POLICY], watch: false },
    pins: { onNew: 'allow' },
    audit: { file: d.auditFile },
    control: { port: 0, adminTokenFile: join(d.dir, '.warden', 'admin-token') },
    ...sections,
  };
  writeFileSync(d.configFile, stringify(config));
  return d.configFile;
}

/** A JWKS endpoint that holds every request open until `answerWith` is called. */
export interface HoldingKeyServer {
  readonly url: string;
  /** Resolves once a request has arrived (and is being held). */
  requested(): Promise<void>;
  /** From now on answer (held and new requests) with this key set. */
  answerWith(jwks: unknown): void;
  close(): Promise<void>;
}

export async function holdingKeyServer(): Promise<HoldingKeyServer> {
  const held: ServerResponse[] = [];
  let jwks: unknown;
  let seen = 0;
  const answer = (res: ServerResponse): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  const server = createServer((_req, res) => {
    seen += 1;
    if (jwks === undefined) held.push(res);
    else answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    requested: () => until(() => seen > 0, 15_000),
    answerWith: (set) => {
      jwks = set;
      for (const res of held.splice(0)) answer(res);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** `warden run` as a raw child process: the test sends its signals and reads its exit. */
export interface WardenChild {
  readonly pid: number;
  readonly stderr: string[];
  /** Writes one JSON-RPC message to warden's stdin (stdio agent side). */
  send(message: Record<string, unknown>): void;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once warden logged a line whose `msg` is `msg`. */
  logged(msg: string): Promise<void>;
}

export function spawnWarden(configFile: string, env: Record<string, string> = {}): WardenChild {
  const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const hasMsg = (msg: string): boolean => stderr.some((line) => line.includes(`"msg":${JSON.stringify(msg)}`));
  return {
    pid: child.pid!,
    stderr,
    send: (message) => void child.stdin!.write(`${JSON.stringify(message)}\n`),
    signal: (sig) => void child.kill(sig),
    exited,
    logged: (msg) => until(() => hasMsg(msg), 15_000),
  };
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The upstream's pid, once it wrote its pid file. */
export async function upstreamPid(d: ScenarioDir): Promise<number> {
  await until(() => existsSync(d.pidFile) && readFileSync(d.pidFile, 'utf8').endsWith('\n'), 15_000);
  return Number(readFileSync(d.pidFile, 'utf8').trim());
}

/** `warden audit verify --json <log>`: exit code and report. */
export function verifyAudit(d: ScenarioDir): { code: number | null; report: VerifyReport } {
  const r = spawnSync(process.execPath, [WARDEN_MAIN, 'audit', 'verify', '--json', d.auditFile], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, report: JSON.parse(r.stdout || '{}') as VerifyReport };
}

/** The parts of `warden audit verify --json` the tests read. */
export interface VerifyReport {
  readonly ok?: boolean;
  readonly problem?: { code: string };
  readonly warnings?: { code: string }[];
  readonly checkpoint?: { status: string; seq?: number };
}

/** The checkpoint warden wrote next to the log. */
export function readCheckpoint(d: ScenarioDir): { seq: number; closed?: boolean } {
  return JSON.parse(readFileSync(d.checkpointFile, 'utf8')) as { seq: number; closed?: boolean };
}

export function lastRecord(d: ScenarioDir): AuditLine {
  const records = readAudit(d.auditFile);
  const last = records[records.length - 1];
  if (!last) throw new Error(`no audit records in ${d.auditFile}`);
  return last;
}

/** The MCP `initialize` request an agent sends first. */
export function initializeRequest(id = 1): Record<string, unknown> {
  return {
    jsonrpc: '2.0', id, method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'startup-signals-agent', version: '1.0.0' } },
  };
}
