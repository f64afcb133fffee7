import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARDEN_MAIN } from './paths.js';
import { acmeUpstream, readAudit, readCallLog, wardenDir, writeConfig, type AuditLine, type WardenDir } from './audit-e2e-warden.js';
import { TRANSPARENT_POLICY } from './paths.js';

/** What one loop of SIGKILLs left behind. */
export interface KillLoopResult {
  readonly dir: WardenDir;
  readonly kills: number;
  /** Calls the agent saw answered before the kill (all must be in the audit and the call log). */
  readonly answered: string[];
  /** Iterations in which at least one call had been forwarded before the kill. */
  readonly killedUnderLoad: number;
  /** Torn last lines appended after a kill (the next start must repair each). */
  readonly torn: number;
}

const TEAR_EVERY = 10;

/**
 * A warden config for the kill loop: anonymous, an explicit allow-all policy (the real engine
 * stays in the path), no control API, no pins file, quiet logs. One audit file reused across
 * every restart of the loop.
 */
export function killLoopConfig(d: WardenDir): void {
  writeConfig(d, {
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: acmeUpstream(d) },
    logging: { level: 'error' },
    policy: { files: [TRANSPARENT_POLICY], watch: false },
    control: { enabled: false },
    pins: { enabled: false },
    audit: { file: d.auditFile },
    // The smallest state store: its preallocation is a noticeable part of a start-up repeated 200 times.
    state: { maxEntries: 1000 },
  });
}

/**
 * Starts warden in its own process group (so warden and its ACME child die together and nothing
 * leaks), speaks raw JSON-RPC over stdio, keeps `inFlight` echo calls going, and SIGKILLs the
 * group `delayMs` after the first call was answered. Resolves with the nonces answered.
 */
export async function runUntilKilled(d: WardenDir, tag: string, delayMs: number, inFlight = 4): Promise<{ answered: string[]; sent: number }> {
  const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', d.configFile], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const answered: string[] = [];
  const pending = new Map<number, string>();
  let nextId = 1;
  let sent = 0;
  let killed = false;
  let buffer = '';
  const write = (msg: Record<string, unknown>): void => {
    if (!killed && child.stdin.writable) child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
  };
  const kill = (): void => {
    if (killed) return;
    killed = true;
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const fire = (): void => {
    const id = nextId++;
    const nonce = `${tag}-${id}`;
    pending.set(id, nonce);
    sent += 1;
    write({ id, method: 'tools/call', params: { name: 'echo', arguments: { message: nonce } } });
  };
  const guard = setTimeout(kill, 15_000); // never hang the suite
  child.stdin.on('error', () => undefined);
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const msg = JSON.parse(line) as { id?: number; result?: { content?: { text: string }[] } };
      if (msg.id === 0) {
        write({ method: 'notifications/initialized' });
        for (let i = 0; i < inFlight; i++) fire();
        continue;
      }
      const nonce = msg.id === undefined ? undefined : pending.get(msg.id);
      if (nonce === undefined) continue;
      pending.delete(msg.id as number);
      if (msg.result?.content?.[0]?.text === nonce) {
        if (answered.length === 0) setTimeout(kill, delayMs);
        answered.push(nonce);
      }
      if (!killed) fire();
    }
  });
  write({ id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kill-loop', version: '1' } } });
  await exited;
  clearTimeout(guard);
  kill();
  return { answered, sent };
}

/** Runs `kills` SIGKILL iterations against one audit file. */
export async function killLoop(loop: number, kills: number, minDelayMs = 20, maxDelayMs = 150): Promise<KillLoopResult> {
  const d = wardenDir(`warden-e2e-kill-${loop}-`);
  killLoopConfig(d);
  const answered: string[] = [];
  let killedUnderLoad = 0;
  let torn = 0;
  for (let i = 0; i < kills; i++) {
    const delay = minDelayMs + Math.floor(Math.random() * (maxDelayMs - minDelayMs));
    const run = await runUntilKilled(d, `L${loop}-I${i}`, delay);
    if (run.answered.length > 0) killedUnderLoad += 1;
    answered.push(...run.answered);
    if (i % TEAR_EVERY === TEAR_EVERY - 1 && i < kills - 1) {
      // SIGKILL cannot interrupt a write(2) to a local file, so a torn line needs a power cut or
      // a full disk: simulate one so the next start has to cut it off and continue the chain.
      appendFileSync(d.auditFile, '{"v":1,"seq":');
      torn += 1;
    }
  }
  return { dir: d, kills, answered, killedUnderLoad, torn };
}

/**
 * Every call ACME received must have been audited before it was forwarded: a call.decision and a
 * call.forwarded record of the call whose call.received carries the same nonce. Returns the
 * nonces that break this rule (none expected).
 */
export function unauditedCalls(d: WardenDir): { received: number; missing: string[] } {
  const byCall = new Map<string, Set<string>>();
  const callOf = new Map<string, string>();
  for (const r of readAudit(d.auditFile) as AuditLine[]) {
    if (!r.callId) continue;
    if (!byCall.has(r.callId)) byCall.set(r.callId, new Set());
    byCall.get(r.callId)!.add(r.type);
    const message = (r.args as { message?: unknown } | undefined)?.message;
    if (r.type === 'call.received' && typeof message === 'string') callOf.set(message, r.callId);
  }
  const calls = readCallLog(d.callLog);
  const missing = calls
    .map((c) => String(c.arguments.message))
    .filter((nonce) => {
      const steps = byCall.get(callOf.get(nonce) ?? '');
      return !steps?.has('call.decision') || !steps.has('call.forwarded');
    });
  return { received: calls.length, missing };
}

export const checkpointOf = (d: WardenDir): string => join(d.dir, 'audit.checkpoint.json');
