import { killLoopWardenConfig, runUntilKilled as killedRun, tearLastLine, unauditedNonces } from '../../bench/fixtures/kill-under-load.js';
import { join } from 'node:path';
import { WARDEN_MAIN } from './paths.js';
import { acmeUpstream, readAudit, readCallLog, wardenDir, writeConfig, type WardenDir } from './audit-e2e-warden.js';
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
  writeConfig(d, killLoopWardenConfig({ acme: acmeUpstream(d), policyFile: TRANSPARENT_POLICY, auditFile: d.auditFile }));
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
    const run = await killedRun(WARDEN_MAIN, d.configFile, `L${loop}-I${i}`, delay);
    if (run.answered.length > 0) killedUnderLoad += 1;
    answered.push(...run.answered);
    if (i % TEAR_EVERY === TEAR_EVERY - 1 && i < kills - 1) {
      tearLastLine(d.auditFile);
      torn += 1;
    }
  }
  return { dir: d, kills, answered, killedUnderLoad, torn };
}

/**
 * Every call ACME received must have been audited before it was forwarded (see
 * unauditedNonces). Returns how many calls ACME received and the nonces that break the rule.
 */
export function unauditedCalls(d: WardenDir): { received: number; missing: string[] } {
  const calls = readCallLog(d.callLog);
  return { received: calls.length, missing: unauditedNonces(readAudit(d.auditFile), calls) };
}

export const checkpointOf = (d: WardenDir): string => join(d.dir, 'audit.checkpoint.json');
