import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { AuditRecord } from '../../src/audit/record-codec.js';
import { parseRecords } from '../../src/audit/read-records.js';
import { ControlApi } from './enforcement-control.js';
import { connectHttp, connectStdio, type ClientOptions, type ConnectedClient } from './mcp-clients.js';
import { REPO_ROOT, upstreams, WARDEN_MAIN } from './paths.js';
import { tempDir } from './warden-process.js';

/** The policy with one ACME tool per enforced action (allow, throttle, approve, block, hidden). */
export const ENFORCEMENT_POLICY = resolve(REPO_ROOT, 'test/fixtures/e2e-enforcement/enforcement.yaml');
/** A `--import` preload that shifts the warden process's clock (see the file). */
export const CLOCK_SHIFT_PRELOAD = resolve(REPO_ROOT, 'test/fixtures/e2e-enforcement/clock-shift.mjs');

export interface EnforcementWardenOptions {
  /** Extra config sections (throttle, approvals, identity, ...). Without `identity`, anonymous. */
  readonly sections?: Record<string, unknown>;
  /** The directory the config is written to (default: a fresh temp dir). */
  readonly dir?: string;
  /** Node options for the warden process itself (e.g. `--import` a preload). */
  readonly nodeArgs?: readonly string[];
  /** Extra environment for the warden process. */
  readonly env?: Record<string, string>;
  readonly client?: ClientOptions;
}

/** Files of one test warden: everything lives in one temp directory next to the config. */
export interface WardenFiles {
  readonly dir: string;
  readonly configFile: string;
  /** ACME appends one JSON line per tool call it actually receives. */
  readonly callLog: string;
  readonly auditFile: string;
  readonly adminTokenFile: string;
}

/** One tool call that reached the ACME upstream. */
export interface UpstreamCall {
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
}

export interface EnforcementWarden extends WardenFiles {
  readonly client: ConnectedClient['client'];
  readonly control: ControlApi;
  /** Calls the upstream really received (from ACME_CALL_LOG). */
  upstreamCalls(): UpstreamCall[];
  /** Records of the warden's audit log, in order. */
  audit(): AuditRecord[];
  close(): Promise<void>;
}

/** Writes the warden config (policy fixture, ACME with a call log, control API on a free port). */
export function writeEnforcementConfig(options: EnforcementWardenOptions, extra: Record<string, unknown> = {}): WardenFiles {
  const dir = options.dir ?? tempDir('warden-e2e-enf-');
  const files: WardenFiles = {
    dir,
    configFile: join(dir, 'warden.yaml'),
    callLog: join(dir, 'acme-calls.jsonl'),
    auditFile: join(dir, 'warden-audit.jsonl'),
    adminTokenFile: join(dir, '.warden', 'admin-token'),
  };
  const sections = options.sections ?? {};
  const config = {
    upstreams: { acme: { ...upstreams.acme(), env: { ACME_CALL_LOG: files.callLog } } },
    logging: { level: 'warn' },
    // These tests are about enforcement, not the decision time budget: a cold first decision
    // (~50 ms) on a 2-core machine shared with other test runs can exceed the 250 ms default by
    // scheduling delay alone, and would then (correctly) fail closed as decision_budget_exceeded.
    policy: { files: [ENFORCEMENT_POLICY], watch: false, decisionBudgetMs: 10_000 },
    pins: { onNew: 'allow', watch: false },
    control: { port: 0, adminTokenFile: files.adminTokenFile },
    ...(sections.identity === undefined ? { dangerouslyAllowAnonymous: true } : {}),
    ...extra,
    ...sections,
  };
  writeFileSync(files.configFile, stringify(config));
  return files;
}

function readCalls(callLog: string): UpstreamCall[] {
  if (!existsSync(callLog)) return [];
  return readFileSync(callLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as UpstreamCall);
}

function readAudit(auditFile: string): AuditRecord[] {
  return existsSync(auditFile) ? parseRecords(readFileSync(auditFile, 'utf8')) : [];
}

function withHelpers(files: WardenFiles, client: ConnectedClient['client'], control: ControlApi, close: () => Promise<void>): EnforcementWarden {
  return { ...files, client, control, upstreamCalls: () => readCalls(files.callLog), audit: () => readAudit(files.auditFile), close };
}

/**
 * Spawns `warden run` as the agent's stdio MCP server (exactly how an agent launches it) in front
 * of the ACME server, and opens the control API the way an operator would: URL from the
 * `control-url` file, credential from the admin token file.
 */
export async function startStdioWarden(options: EnforcementWardenOptions = {}): Promise<EnforcementWarden> {
  const files = writeEnforcementConfig(options);
  const args = [...(options.nodeArgs ?? []), WARDEN_MAIN, 'run', '--config', files.configFile];
  const connected = await connectStdio(process.execPath, args, { ...(options.client ?? {}), env: options.env ?? {} });
  try {
    const control = await ControlApi.open(files.adminTokenFile);
    return withHelpers(files, connected.client, control, () => connected.close());
  } catch (err) {
    await connected.close();
    throw new Error(`${String(err)}\nwarden stderr:\n${connected.stderr.join('\n')}`);
  }
}

/** A warden listening on Streamable HTTP (stdio off); agents connect with {@link connectAgent}. */
export interface HttpEnforcementWarden extends WardenFiles {
  readonly url: string;
  readonly control: ControlApi;
  upstreamCalls(): UpstreamCall[];
  audit(): AuditRecord[];
  /** Connects an agent over Streamable HTTP, optionally with a bearer token. */
  connectAgent(token?: string, options?: ClientOptions): Promise<ConnectedClient>;
  close(): Promise<void>;
}

/** Spawns `warden run` listening on Streamable HTTP at 127.0.0.1:<free port>. */
export async function startHttpWarden(options: EnforcementWardenOptions = {}): Promise<HttpEnforcementWarden> {
  const files = writeEnforcementConfig(options, { listen: { stdio: false, http: { port: 0 } }, logging: { level: 'info' } });
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), WARDEN_MAIN, 'run', '--config', files.configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...(options.env ?? {}) },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stderr: string[] = [];
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`warden did not start:\n${stderr.join('\n')}`)), 15_000);
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        stderr.push(line);
        const http = (JSON.parse(line) as { http?: string }).http;
        if (http) {
          clearTimeout(timer);
          resolveUrl(http);
        }
      }
    });
    void exited.then(() => reject(new Error(`warden exited:\n${stderr.join('\n')}`)));
  });
  const control = await ControlApi.open(files.adminTokenFile);
  const clients: ConnectedClient[] = [];
  return {
    ...files,
    url,
    control,
    upstreamCalls: () => readCalls(files.callLog),
    audit: () => readAudit(files.auditFile),
    connectAgent: async (token, clientOptions = {}) => {
      const c = await connectHttp(url, { ...clientOptions, ...(token ? { token } : {}) });
      clients.push(c);
      return c;
    },
    close: async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
