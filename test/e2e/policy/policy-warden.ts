import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stringify } from 'yaml';
import { generateSigningKey, mintToken } from '../../../src/identity/dev-tokens.js';
import { ACME_SERVER, WARDEN_MAIN } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/warden-process.js';

/** An audit record as written (canonical JSON, one per line). */
export type AuditRecord = { readonly seq: number; readonly type: string; readonly callId?: string } & Record<string, unknown>;

/** A real warden (stdio, signed identity, a policy file in a temp folder) and its evidence. */
export interface PolicyWarden {
  readonly client: Client;
  /** warden's process id, for signals. */
  readonly pid: number;
  readonly policyFile: string;
  readonly auditFile: string;
  readonly stderr: string[];
  records(): AuditRecord[];
  /** Tool calls that actually reached the ACME server (ACME_CALL_LOG). */
  upstreamCalls(): { tool: string; arguments: unknown }[];
  /** Polls the audit until a record matches (reloads are asynchronous). */
  waitForRecord(match: (r: AuditRecord) => boolean, timeoutMs?: number): Promise<AuditRecord>;
  close(): Promise<void>;
}

const ISSUER = 'https://idp.policy-e2e.example';
const AUDIENCE = 'https://warden.policy-e2e.example/mcp';

/**
 * Starts `warden run` over stdio in front of the ACME server with `policy` (an object written as
 * YAML) as its only policy file. The agent is alice acting through agent-7, with a real token.
 */
export async function startPolicyWarden(policy: Record<string, unknown>, options: { watch?: boolean; scope?: string } = {}): Promise<PolicyWarden> {
  const dir = tempDir('warden-policy-e2e-');
  const key = await generateSigningKey();
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(key.jwks));
  const token = await mintToken({ key, issuer: ISSUER, audience: AUDIENCE, subject: 'alice', actor: 'agent-7', scope: options.scope ?? 'tools:read', ttlSeconds: 3600 });
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  const policyFile = join(dir, 'policy.yaml');
  writePolicy(policyFile, policy);
  const auditFile = join(dir, 'audit.jsonl');
  const callLog = join(dir, 'acme-calls.jsonl');
  const config = {
    upstreams: { acme: { command: process.execPath, args: [ACME_SERVER], env: { ACME_CALL_LOG: callLog } } },
    logging: { level: 'warn' },
    identity: { resource: AUDIENCE, issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksFile: './jwks.json' }], token: { file: './token' } },
    policy: { files: ['./policy.yaml'], watch: options.watch ?? false },
    audit: { file: './audit.jsonl' },
    control: { port: 0, adminTokenFile: './admin-token' },
    pins: { file: './pins.json', onNew: 'allow' },
  };
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(configFile, stringify(config));
  const transport = new StdioClientTransport({ command: process.execPath, args: [WARDEN_MAIN, 'run', '--config', configFile], env: getDefaultEnvironment(), stderr: 'pipe' });
  const stderr: string[] = [];
  transport.stderr?.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  const client = new Client({ name: 'policy-e2e-agent', version: '1.0.0' });
  await client.connect(transport);
  const records = (): AuditRecord[] => readJsonLines(auditFile) as AuditRecord[];
  return {
    client,
    pid: transport.pid!,
    policyFile,
    auditFile,
    stderr,
    records,
    upstreamCalls: () => readJsonLines(callLog) as { tool: string; arguments: unknown }[],
    waitForRecord: async (match, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = records().find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching audit record within ${timeoutMs} ms; stderr: ${stderr.join('')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => client.close(),
  };
}

/** Writes a policy object as YAML (the whole file at once, as an editor's save would). */
export function writePolicy(file: string, policy: Record<string, unknown> | string): void {
  writeFileSync(file, typeof policy === 'string' ? policy : stringify(policy));
}

function readJsonLines(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

/** The records of one call, by type. Each call's steps share its callId. */
export function callRecords(records: readonly AuditRecord[], callId: string): Map<string, AuditRecord> {
  return new Map(records.filter((r) => r.callId === callId).map((r) => [r.type, r]));
}

/** The call.decision records in order, optionally only for one tool. */
export function decisions(records: readonly AuditRecord[], tool?: string): AuditRecord[] {
  return records.filter((r) => r.type === 'call.decision' && (tool === undefined || r['tool'] === tool));
}

/** A small enforce-mode policy for the ACME server; override any key. */
export function acmePolicy(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 'e2e-1',
    mode: 'enforce',
    defaults: { sensitivity: 'high', unclassifiedAction: 'approve', high: 'approve', critical: 'block' },
    thresholds: { throttle: 50, approve: 70, block: 90 },
    anomalies: { novelty: { toolWeight: 5 } },
    sensitivity: [
      { tools: ['echo'], level: 'low', class: 'diagnostic' },
      { tools: ['read_file'], level: 'low', class: 'read' },
      { tools: ['list_customers'], level: 'medium', class: 'customer-data' },
      { tools: ['transfer_funds'], level: 'critical', class: 'payments' },
      { tools: ['run_shell'], level: 'critical', class: 'shell' },
    ],
    rules: [
      { id: 'block-secret-files', match: { tools: ['read_file'], arguments: [{ path: 'path', regex: '(^|/)\\.ssh/' }] }, action: 'block' },
      { id: 'hide-shell', match: { tools: ['run_shell'], scopes: { none: ['tools:shell'] } }, action: 'block', hide: true },
    ],
    ...over,
  };
}
