import { ApprovalsConfigSchema } from '../src/approval/approvals-config.js';
import type { AuditSink } from '../src/audit/audit-sink.js';
import type { Decision } from '../src/core/decision.js';
import type { ToolCallRequest } from '../src/core/tool-call.js';
import { createEnforcement } from '../src/enforce/enforcement.js';
import { ThrottleConfigSchema } from '../src/enforce/throttle-config.js';
import { silentLogger } from '../src/logging/logger.js';
import { MemoryStateStore } from '../src/state/memory-store.js';
import type { BenchReport, BenchTarget } from './bench-report.js';

const nullAudit: AuditSink = { record: () => undefined, healthy: () => true, close: async () => undefined };

function request(i: number): ToolCallRequest {
  return {
    callId: `c${i}`, action: 'tools/call', sessionId: 's', upstream: 'fs', tool: 'read', exposedName: 'fs.read',
    principal: { issuer: 'i', user: `u${i % 50}`, actor: 'a', priorActors: [], clientId: undefined, scopes: [], sessionId: undefined, authTime: undefined, acr: undefined, amr: [], issuedAt: undefined, expiresAt: undefined, tokenId: undefined, claims: {}, anonymous: false },
    arguments: { path: '/tmp/x' }, toolDefinition: undefined, transport: 'stdio', remoteAddress: undefined, userAgent: undefined,
    clientInfo: undefined, progressToken: undefined, receivedAt: 0, signal: new AbortController().signal, sendProgress: undefined,
  };
}

function decision(enforced: Decision['enforced']): Decision {
  return { action: enforced, enforced, mode: 'enforce', score: 10, sensitivity: 'low', toolClass: 'read', reasons: [], rules: ['r1'], policyHash: 'p' };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Per-call cost of enforceDecision for allow, block and (admitted) throttle, in microseconds. */
export async function runEnforceBench(): Promise<BenchReport> {
  const e = createEnforcement(
    { throttle: ThrottleConfigSchema.parse({ buckets: [{ key: 'user_agent', ratePerMinute: 1_000_000, burst: 100_000 }], maxConcurrentPerPrincipal: 10_000 }), approvals: ApprovalsConfigSchema.parse({}) },
    { audit: nullAudit, store: new MemoryStateStore(), logger: silentLogger() },
  );
  const variants = { allow: decision('allow'), block: decision('block'), throttle: decision('throttle') } as const;
  const samples: Record<string, number[]> = { allow: [], block: [], throttle: [] };
  const reqs = Array.from({ length: 1_000 }, (_, i) => request(i));
  for (let round = 0; round < 25; round++) {
    for (const [name, d] of Object.entries(variants)) {
      for (let i = 0; i < 1_000; i++) {
        const t0 = process.hrtime.bigint();
        const v = await e.enforce(reqs[i] as ToolCallRequest, d);
        if (v.kind === 'forward') v.onOutcome?.({ status: 'ok', durationMs: 0, resultBytes: 0, resultItems: 0, result: {} });
        if (round >= 5) samples[name]!.push(Number(process.hrtime.bigint() - t0) / 1_000);
      }
    }
  }
  e.close();
  const lines: string[] = [];
  const results: BenchTarget[] = [];
  const limits: Record<string, number> = { allow: 10, block: 25, throttle: 40 };
  for (const name of Object.keys(variants)) {
    const s = samples[name]!.sort((a, b) => a - b);
    const p50 = quantile(s, 0.5);
    const p99 = quantile(s, 0.99);
    const limit = limits[name] ?? 0;
    results.push({ figure: `enforce ${name} p50 ${p50.toFixed(2)} µs`, target: `≤ ${limit} µs`, met: p50 <= limit });
    lines.push(`enforce ${name.padEnd(8)} p50 ${p50.toFixed(2)} µs  p99 ${p99.toFixed(2)} µs  (target p50 ≤ ${limit} µs)`);
  }
  return { name: 'enforce', lines, ok: results.every((r) => r.met), targets: results };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const report = await runEnforceBench();
  for (const line of report.lines) console.log(line);
  console.log(report.ok ? 'enforce bench: target met' : 'enforce bench: target MISSED');
  process.exitCode = report.ok ? 0 : 1;
}
