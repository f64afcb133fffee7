#!/usr/bin/env node
/**
 * Crash soak of the write-ahead audit: SIGKILL `warden run` (with its upstream) under load many
 * more times than the test suite does (test/e2e/audit/audit-sigkill-loop.test.ts: 200), then
 * prove that every call the upstream received was audited before it was forwarded and that every
 * log still verifies.
 *
 *   npm run soak                                   # 1000 kills, 2 lanes
 *   node dist/bench/audit-kill-soak.js --kills 5000 --lanes 2 [--keep] [--json]
 *
 * Each lane is one audit file reused across all its restarts (so every start recovers a crashed
 * log; every 10th restart also finds a torn last line to cut off). Exit 0 when every check holds,
 * 1 when one fails (the folder is then kept for a post-mortem), 2 on a usage error.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { verifyAuditFiles } from '../src/audit/verify-audit.js';
import { completeJsonLines, killLoopWardenConfig, runUntilKilled, tearLastLine, unauditedNonces } from './fixtures/kill-under-load.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const WARDEN = join(ROOT, 'dist/src/cli/main.js');
const ACME = join(ROOT, 'dist/examples/servers/acme-server.js');
const POLICY = join(ROOT, 'bench/fixtures/bench-policy.yaml');
const TEAR_EVERY = 10;
/** Warnings a killed writer legitimately leaves: its torn last line, records after its last checkpoint. */
const EXPECTED_WARNINGS = new Set(['torn_tail', 'uncovered_records', 'no_checkpoint']);

const HELP = `Usage: node dist/bench/audit-kill-soak.js [--kills N] [--lanes N] [--keep] [--json]

SIGKILLs warden under load N times (default 1000) across parallel lanes (default 2), each lane one
audit file reused across its restarts, then checks that every call the upstream received has its
call.decision and call.forwarded records and that every log verifies.
Exit codes: 0 every check held, 1 a check failed (the folder is kept), 2 usage.
`;

interface Lane {
  readonly dir: string;
  readonly configFile: string;
  readonly auditFile: string;
  readonly callLog: string;
  kills: number;
  torn: number;
  killedUnderLoad: number;
}

interface LaneReport {
  readonly lane: number;
  readonly kills: number;
  readonly callsReceived: number;
  readonly unaudited: number;
  readonly verifyOk: boolean;
  readonly problem: unknown;
  readonly unexpectedWarnings: string[];
  readonly starts: number;
  readonly recoveries: number;
  readonly tornInjected: number;
  readonly tornRepaired: number;
  readonly killedUnderLoad: number;
}

function newLane(root: string, i: number): Lane {
  const dir = join(root, `lane-${i}`);
  const lane = { dir, configFile: join(dir, 'warden.yaml'), auditFile: join(dir, 'audit.jsonl'), callLog: join(dir, 'acme-calls.jsonl'), kills: 0, torn: 0, killedUnderLoad: 0 };
  const config = killLoopWardenConfig({ acme: { command: process.execPath, args: [ACME], env: { ACME_CALL_LOG: lane.callLog } }, policyFile: POLICY, auditFile: lane.auditFile });
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(lane.configFile, JSON.stringify(config, null, 2));
  return lane;
}

async function runLane(lane: Lane, index: number, kills: number, onKill: () => void): Promise<void> {
  for (let i = 0; i < kills; i++) {
    const delayMs = 20 + Math.floor(Math.random() * 130);
    const run = await runUntilKilled(WARDEN, lane.configFile, `L${index}-I${i}`, delayMs);
    lane.kills += 1;
    if (run.answered.length > 0) lane.killedUnderLoad += 1;
    if (i % TEAR_EVERY === TEAR_EVERY - 1 && i < kills - 1) {
      tearLastLine(lane.auditFile);
      lane.torn += 1;
    }
    onKill();
  }
}

function check(lane: Lane, index: number): LaneReport {
  const records = completeJsonLines<{ type?: string; callId?: string; args?: unknown; reasons?: string[] }>(lane.auditFile);
  const calls = completeJsonLines<{ arguments: Record<string, unknown> }>(lane.callLog);
  const checkpoint = join(lane.dir, 'audit.checkpoint.json');
  const report = verifyAuditFiles([lane.auditFile], existsSync(checkpoint) ? { checkpoint } : {});
  const recovered = records.filter((r) => r.type === 'audit.recovered');
  return {
    lane: index,
    kills: lane.kills,
    callsReceived: calls.length,
    unaudited: unauditedNonces(records, calls).length,
    verifyOk: report.ok,
    problem: report.problem,
    unexpectedWarnings: report.warnings.map((w) => w.code).filter((c) => !EXPECTED_WARNINGS.has(c)),
    starts: records.filter((r) => r.type === 'warden.start').length,
    recoveries: recovered.length,
    tornInjected: lane.torn,
    tornRepaired: recovered.filter((r) => r.reasons?.includes('torn_tail')).length,
    killedUnderLoad: lane.killedUnderLoad,
  };
}

/** Every rule the soak proves, as the lines that say what broke (none when all held). */
function failures(r: LaneReport): string[] {
  const out: string[] = [];
  if (r.unaudited > 0) out.push(`lane ${r.lane}: ${r.unaudited} call(s) reached the upstream without call.decision and call.forwarded on disk`);
  if (!r.verifyOk) out.push(`lane ${r.lane}: the chain does not verify: ${JSON.stringify(r.problem)}`);
  if (r.unexpectedWarnings.length > 0) out.push(`lane ${r.lane}: unexpected verify warnings: ${r.unexpectedWarnings.join(', ')}`);
  if (r.starts !== r.kills) out.push(`lane ${r.lane}: ${r.starts} warden.start records for ${r.kills} starts`);
  if (r.recoveries !== r.kills - 1) out.push(`lane ${r.lane}: ${r.recoveries} audit.recovered records after ${r.kills - 1} crashes`);
  // A kill before any call was answered proves nothing about calls in flight.
  if (r.killedUnderLoad < Math.floor(r.kills * 0.8)) out.push(`lane ${r.lane}: only ${r.killedUnderLoad} of ${r.kills} kills landed with calls in flight`);
  if (r.tornRepaired < r.tornInjected) out.push(`lane ${r.lane}: ${r.tornRepaired} torn tails repaired of ${r.tornInjected} injected`);
  return out;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { kills: { type: 'string' }, lanes: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`audit-kill-soak: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const kills = Number(values.kills ?? 1000);
  const lanes = Number(values.lanes ?? 2);
  if (!Number.isInteger(kills) || kills < 1 || !Number.isInteger(lanes) || lanes < 1 || lanes > kills) {
    process.stderr.write(`audit-kill-soak: --kills and --lanes must be whole numbers, 1 ≤ lanes ≤ kills\n\n${HELP}`);
    return 2;
  }
  if (!existsSync(WARDEN) || !existsSync(ACME)) {
    process.stderr.write('audit-kill-soak: dist/ is missing; run `npm run build` first (npm run soak does)\n');
    return 2;
  }
  const root = mkdtempSync(join(tmpdir(), 'warden-kill-soak-'));
  const all = Array.from({ length: lanes }, (_, i) => newLane(root, i));
  const started = Date.now();
  let done = 0;
  let lastShown = 0;
  // On a terminal one line rewritten every second; in a log (CI) a line every 30 s.
  const tty = process.stderr.isTTY === true;
  const progress = (final = false): void => {
    const now = Date.now();
    if (!final && now - lastShown < (tty ? 1000 : 30_000)) return;
    lastShown = now;
    const line = `soak: ${done}/${kills} kills, ${Math.round((now - started) / 1000)} s`;
    process.stderr.write(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };
  const share = (i: number): number => Math.floor(kills / lanes) + (i < kills % lanes ? 1 : 0);
  await Promise.all(all.map((lane, i) => runLane(lane, i, share(i), () => {
    done += 1;
    progress();
  })));
  progress(true);
  const reports = all.map((lane, i) => check(lane, i));
  const broken = reports.flatMap(failures);
  const total = (k: keyof LaneReport): number => reports.reduce((n, r) => n + (r[k] as number), 0);
  const summary = {
    ok: broken.length === 0,
    kills: total('kills'),
    killedUnderLoad: total('killedUnderLoad'),
    callsReceived: total('callsReceived'),
    unaudited: total('unaudited'),
    tornInjected: total('tornInjected'),
    tornRepaired: total('tornRepaired'),
    seconds: Math.round((Date.now() - started) / 1000),
    failures: broken,
    lanes: reports,
    folder: values.keep || broken.length > 0 ? root : undefined,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    process.stdout.write(
      `audit kill soak: ${summary.kills} SIGKILLs (${summary.killedUnderLoad} with calls in flight) in ${summary.seconds} s, ` +
        `${summary.callsReceived} calls reached the upstream, ${summary.unaudited} without their write-ahead records, ` +
        `${summary.tornRepaired} torn tails repaired (${summary.tornInjected} injected), every log verifies: ${reports.every((r) => r.verifyOk) ? 'yes' : 'NO'}\n`,
    );
    for (const line of broken) process.stdout.write(`FAILED ${line}\n`);
    if (summary.folder) process.stdout.write(`logs kept in ${summary.folder}\n`);
  }
  if (summary.folder === undefined) rmSync(root, { recursive: true, force: true });
  return broken.length === 0 ? 0 : 1;
}

process.exitCode = await main();
