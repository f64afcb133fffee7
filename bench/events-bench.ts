import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RegistryFile } from '../src/events/registry-file.js';
import { SubjectRegistry } from '../src/events/subject-registry.js';
import type { Principal } from '../src/core/principal.js';
import type { AuditSink } from '../src/audit/audit-sink.js';
import { MemoryStateStore } from '../src/state/memory-store.js';
import type { BenchReport, BenchTarget } from './bench-report.js';

const TARGET_P50_NS = 2_000;

const NOW = 1_700_000_000_000;
const audit: AuditSink = { record: () => {}, healthy: () => true, close: async () => {} };

function principal(user: string): Principal {
  return {
    issuer: 'https://idp', user, actor: 'agent', priorActors: [], clientId: undefined, scopes: [], sessionId: `sid-${user}`,
    authTime: undefined, acr: undefined, amr: [], issuedAt: NOW / 1000 - 60, expiresAt: undefined, tokenId: undefined,
    claims: { email: `${user}@example.com` }, anonymous: false,
  };
}

function measure(registry: SubjectRegistry, who: Principal, n: number): { p50: number; p99: number } {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 100; k++) registry.evaluate(who, 'sess', NOW);
    samples.push(Number(process.hrtime.bigint() - t0) / 100);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(n / 2)] ?? 0, p99: samples[Math.floor(n * 0.99)] ?? 0 };
}

const MASS_REVOCATIONS = 3_000;
const MASS_IN_FLIGHT = 16;

/**
 * A mass revocation (a breach response revoking thousands of users), as a transmitter sends it:
 * `MASS_IN_FLIGHT` SETs at a time, each answered once its entry is on disk. Reports the time per
 * revocation and the longest stall of the event loop (what a tool call arriving meanwhile waits).
 */
async function massRevocation(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-revocations-'));
  try {
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit, clock: () => Date.now(), file: new RegistryFile(join(dir, 'revocations.json')) });
    const stalls = monitorEventLoopDelay({ resolution: 1 });
    stalls.enable();
    let next = 0;
    let unsaved = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: MASS_IN_FLIGHT }, async () => {
      while (next < MASS_REVOCATIONS) {
        const i = next++;
        const r = await registry.revoke({ user: `user-${i}` }, { at: Date.now(), eventId: `e${i}`, reason: 'bench', by: 'bench' });
        if (!r.saved) unsaved += 1;
      }
    }));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    stalls.disable();
    if (unsaved > 0) throw new Error(`mass revocation: ${unsaved} revocations not saved`);
    return [
      `mass revocation, ${MASS_REVOCATIONS} users, ${MASS_IN_FLIGHT} at a time, on a revocations file: ${(ms / 1000).toFixed(1)} s (${(ms / MASS_REVOCATIONS).toFixed(2)} ms per revocation); event loop stalled at most ${(stalls.max / 1e6).toFixed(1)} ms (p99 ${(stalls.percentile(99) / 1e6).toFixed(1)} ms)`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per-call cost of SubjectRegistry.evaluate: empty registry vs 10k standing entries. Target: p50 < 2 µs. */
export async function runEventsBench(): Promise<BenchReport> {
  const empty = new SubjectRegistry({ store: new MemoryStateStore(), audit, clock: () => NOW });
  const loaded = new SubjectRegistry({ store: new MemoryStateStore(), audit, clock: () => NOW });
  for (let i = 0; i < 10_000; i++) {
    await loaded.revoke({ user: `user-${i}` }, { at: NOW, eventId: `e${i}`, reason: 'bench', by: 'bench' });
  }
  const who = principal('someone-else');
  const hit = principal('user-42');
  measure(empty, who, 2000); // warm-up
  measure(loaded, who, 2000);
  const lines: string[] = [];
  const rows: [string, SubjectRegistry, Principal][] = [
    ['no entries', empty, who],
    ['10k entries, not affected', loaded, who],
    ['10k entries, revoked', loaded, hit],
  ];
  const targets: BenchTarget[] = [];
  for (const [label, reg, p] of rows) {
    const { p50, p99 } = measure(reg, p, 5000);
    targets.push({ figure: `evaluate (${label}) p50 ${p50.toFixed(0)} ns`, target: `< ${TARGET_P50_NS} ns`, met: p50 < TARGET_P50_NS });
    lines.push(`evaluate ${label.padEnd(28)} p50 ${p50.toFixed(0)} ns  p99 ${p99.toFixed(0)} ns  (target p50 < ${TARGET_P50_NS} ns)`);
  }
  lines.push(...(await massRevocation()));
  return { name: 'events: SubjectRegistry.evaluate', lines, ok: targets.every((t) => t.met), targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await runEventsBench();
  process.stdout.write(`${report.name}\n${report.lines.map((l) => `  ${l}`).join('\n')}\n${report.ok ? 'OK' : 'TARGET MISSED'}\n`);
}
