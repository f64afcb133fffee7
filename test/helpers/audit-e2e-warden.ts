import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stringify } from 'yaml';
import { ACME_SERVER, WARDEN_MAIN } from './paths.js';
import { until } from './progress.js';
import { tempDir } from './warden-process.js';
import { completeJsonLines } from '../../bench/fixtures/kill-under-load.js';

/** One audit record as parsed from the log (chain fields plus the event's own fields). */
export type AuditLine = { type: string; seq: number; callId?: string; sessionId?: string; [field: string]: unknown };

/**
 * A folder holding everything one end-to-end scenario needs: config, policy, audit log, the
 * control API's admin token and URL, and ACME's call log. Paths in the config are absolute.
 */
export interface WardenDir {
  readonly dir: string;
  readonly configFile: string;
  readonly policyFile: string;
  readonly auditFile: string;
  readonly callLog: string;
  readonly adminTokenFile: string;
}

export function wardenDir(prefix = 'warden-e2e-audit-'): WardenDir {
  const dir = tempDir(prefix);
  return {
    dir,
    configFile: join(dir, 'warden.yaml'),
    policyFile: join(dir, 'policy.yaml'),
    auditFile: join(dir, 'audit.jsonl'),
    callLog: join(dir, 'acme-calls.jsonl'),
    adminTokenFile: join(dir, '.warden', 'admin-token'),
  };
}

/** ACME as a stdio upstream that logs every call it receives; `env` adds more variables. */
export function acmeUpstream(d: WardenDir, env: Record<string, string> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [ACME_SERVER], env: { ACME_CALL_LOG: d.callLog, ...env } };
}

/** Writes the config (YAML) with the folder's audit file and control API (free port). */
export function writeConfig(d: WardenDir, config: Record<string, unknown>): string {
  const full = {
    logging: { level: 'info' },
    policy: { files: [d.policyFile], watch: false },
    audit: { file: d.auditFile },
    control: { port: 0, adminTokenFile: d.adminTokenFile },
    ...config,
  };
  writeFileSync(d.configFile, stringify(full));
  return d.configFile;
}

export interface StdioWarden {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  readonly pid: number;
  readonly stderr: string[];
  close(): Promise<void>;
}

/** Spawns `warden run --config <file>` and connects a real SDK Client over stdio. */
export async function startStdioWarden(configFile: string, name = 'e2e-agent'): Promise<StdioWarden> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [WARDEN_MAIN, 'run', '--config', configFile], stderr: 'pipe', env: getDefaultEnvironment() });
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return { client, transport, pid: transport.pid as number, stderr, close: () => client.close() };
}

/** Every complete record in the audit log (a torn last line is skipped). */
export function readAudit(file: string): AuditLine[] {
  return completeJsonLines<AuditLine>(file);
}

/** Polls the audit log until a record matching `pred` is there. */
export async function waitForRecord(file: string, pred: (r: AuditLine) => boolean, ms = 8000): Promise<AuditLine> {
  let found: AuditLine | undefined;
  await until(() => (found = readAudit(file).find(pred)) !== undefined, ms);
  return found as AuditLine;
}

/** The JSON lines ACME wrote for calls it actually received. */
export function readCallLog(file: string): { tool: string; arguments: Record<string, unknown> }[] {
  return completeJsonLines<{ tool: string; arguments: Record<string, unknown> }>(file);
}

/** Calls the control API with the admin token (URL and token from the files warden wrote). */
export async function control(d: WardenDir, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const urlFile = join(d.dir, '.warden', 'control-url');
  await until(() => existsSync(urlFile), 8000);
  const base = readFileSync(urlFile, 'utf8').trim();
  const token = readFileSync(d.adminTokenFile, 'utf8').trim();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Waits for the pending approval of `tool` and returns it. */
export async function pendingApproval(d: WardenDir, tool: string): Promise<{ id: string; callId: string; argsDigest: string; policyHash: string }> {
  const end = Date.now() + 8000;
  while (Date.now() < end) {
    const { body } = await control(d, 'GET', '/approvals');
    const hit = (body?.approvals ?? []).find((a: { tool: string }) => a.tool === tool);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no pending approval for ${tool}`);
}

/** Runs `warden <args>` (compiled CLI) and returns exit code and output. */
export function wardenCli(args: string[], cwd?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WARDEN_MAIN, ...args], { encoding: 'utf8', cwd, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The decision warden put on a tool result it produced itself. */
export function decisionMeta(result: unknown): { action: string; reason: string; callId: string } | undefined {
  return (result as { _meta?: Record<string, unknown> })._meta?.['dev.mcp-warden/decision'] as { action: string; reason: string; callId: string } | undefined;
}
