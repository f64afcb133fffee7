import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyAuditFiles } from '../../../src/audit/verify-audit.js';
import { checkpointOf, killLoop, unauditedCalls } from '../../helpers/audit-e2e-kill-loop.js';
import { readAudit } from '../../helpers/audit-e2e-warden.js';

/**
 * Crash safety of the write-ahead audit through the real warden: 4 loops × 50 iterations start
 * `warden run` (stdio) in front of ACME, keep echo calls in flight, and SIGKILL warden (with its
 * ACME child: the whole process group) 20–150 ms after the first call was answered. Each loop
 * reuses one audit file across its restarts, so every start recovers a crashed log (dead
 * writer's lock taken over; every 10th restart also finds a torn last line, as a power cut would
 * leave it, and must cut it off). ACME_CALL_LOG lists every call the upstream
 * actually received: each must have its call.decision and call.forwarded records, and the chain
 * must verify.
 */
const LOOPS = Number(process.env.AUDIT_KILL_LOOPS ?? 4);
const KILLS_PER_LOOP = Number(process.env.AUDIT_KILLS_PER_LOOP ?? 50);

describe('SIGKILL warden under load, again and again', () => {
  it(`kills warden ${LOOPS * KILLS_PER_LOOP} times: no forwarded call without its audit records, and the chain always verifies`, async () => {
    const results = await Promise.all(Array.from({ length: LOOPS }, (_, i) => killLoop(i, KILLS_PER_LOOP)));
    let forwarded = 0;
    for (const r of results) {
      const { received, missing } = unauditedCalls(r.dir);
      forwarded += received;
      expect(missing, `loop ${r.dir.dir}`).toEqual([]);
      // Every answer the agent saw was a call the upstream received.
      expect(received).toBeGreaterThanOrEqual(r.answered.length);
      const report = verifyAuditFiles([r.dir.auditFile], existsSync(checkpointOf(r.dir)) ? { checkpoint: checkpointOf(r.dir) } : {});
      expect(report.problem, JSON.stringify(report.problem)).toBeUndefined();
      expect(report.ok).toBe(true);
      // A torn line can only be the last one; earlier ones were cut off (and saved) at restart.
      // Besides it, only what the killed warden wrote after its last (timed) checkpoint.
      expect(report.warnings.filter((w) => !['torn_tail', 'uncovered_records', 'no_checkpoint'].includes(w.code))).toEqual([]);
      const records = readAudit(r.dir.auditFile);
      const starts = records.filter((x) => x.type === 'warden.start').length;
      expect(starts).toBe(r.kills);
      // Every restart after a kill says so in the chain.
      expect(records.filter((x) => x.type === 'audit.recovered').length).toBe(r.kills - 1);
      // Every torn line was cut off and saved at the next start: the injected ones, plus real ones
      // (Linux can cut a write(2) that crosses a page boundary short on SIGKILL).
      const repaired = records.filter((x) => x.type === 'audit.recovered' && (x.reasons as string[]).includes('torn_tail'));
      expect(repaired.length).toBeGreaterThanOrEqual(r.torn);
      expect(readdirSync(r.dir.dir).filter((f) => f.includes('.torn-')).length).toBe(repaired.length);
      // The kill must land under load most of the time, or the test proves nothing.
      expect(r.killedUnderLoad).toBeGreaterThanOrEqual(Math.floor(r.kills * 0.8));
    }
    expect(forwarded).toBeGreaterThan(LOOPS * KILLS_PER_LOOP);
    const torn = results.flatMap((r) => readdirSync(r.dir.dir).filter((f) => f.includes('.torn-')));
    const injected = results.reduce((n, r) => n + r.torn, 0);
    console.log(`sigkill loop: ${LOOPS * KILLS_PER_LOOP} kills, ${forwarded} calls reached ACME, ${torn.length} torn tails recovered (${injected} injected, ${torn.length - injected} real)`);
  }, 300_000);
});
