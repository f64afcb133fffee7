import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeUpstream, readAudit, startStdioWarden, writeConfig, type StdioWarden, type WardenDir } from './audit-e2e-warden.js';
import { connectStdio, type ConnectedClient } from './mcp-clients.js';
import { ACME_SERVER } from './paths.js';

/** The JSON-RPC error warden (or the SDK client) refused a request with. */
export type Refusal = { code: number; message: string; data: Record<string, unknown> };

/**
 * A stdio warden (anonymous, approvals answered through the control API, pins accepting new
 * definitions) in front of ACME, which logs every read, prompt fetch, completion and subscription
 * it serves to `upstreamLog`; and the same agent connected to ACME directly, to compare answers.
 * For tests of requests judged as virtual tools (resources/read, prompts/get, ...).
 */
export async function judgedRequestsWarden(d: WardenDir, policy: string, upstreamLog: string): Promise<{ w: StdioWarden; direct: ConnectedClient }> {
  writeFileSync(d.policyFile, policy);
  writeFileSync(upstreamLog, '');
  writeConfig(d, {
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: acmeUpstream(d, { ACME_READ_LOG: upstreamLog }) },
    approvals: { timeoutMs: 8000 },
    pins: { file: join(d.dir, 'pins.json'), onNew: 'allow' },
  });
  const w = await startStdioWarden(d.configFile);
  const direct = await connectStdio(process.execPath, [ACME_SERVER]);
  return { w, direct };
}

/** The audit record types of one call, in order. */
export function stepsOf(d: WardenDir, callId: unknown): string[] {
  return readAudit(d.auditFile).filter((r) => r.callId === callId).map((r) => r.type);
}

/** The error `request` was refused with; throws if it was answered. */
export async function refusalOf(request: Promise<unknown>): Promise<Refusal> {
  const err = (await request.then(() => undefined, (e: unknown) => e)) as Refusal | undefined;
  if (err === undefined) throw new Error('the request was answered, not refused');
  return err;
}
