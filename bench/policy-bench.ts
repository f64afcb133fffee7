import { pathToFileURL } from 'node:url';
import type { Principal } from '../src/core/principal.js';
import type { ToolCallRequest } from '../src/core/tool-call.js';
import { compilePolicy } from '../src/policy/compile-policy.js';
import type { CompiledPolicy } from '../src/policy/compiled-policy.js';
import { evaluate, type EvaluateInput } from '../src/policy/evaluate.js';
import { validatePolicy } from '../src/policy/load-policy.js';
import { signalOptionsFor } from '../src/policy/signal-options.js';
import { collectSignals } from '../src/signals/collect-signals.js';
import { emptySignals } from '../src/signals/signals.js';
import { MemoryStateStore } from '../src/state/memory-store.js';
import type { BenchReport } from './bench-report.js';

const TOOLS = ['read_file', 'write_file', 'delete_record', 'transfer_funds', 'list_customers', 'export_customers', 'send_email', 'run_shell', 'echo', 'search_files'];

/** About 100 rules of realistic shapes: literal tools, globs, argument/claim/scope conditions, reasons. */
function benchPolicy(): CompiledPolicy {
  const rules: unknown[] = [];
  for (let i = 0; i < 100; i++) {
    const tool = TOOLS[i % TOOLS.length] as string;
    const kind = i % 5;
    const match =
      kind === 0 ? { tools: [tool], arguments: [{ path: 'amount', gt: 1000 + i }] }
      : kind === 1 ? { tools: [`${tool.split('_')[0]}_*`], claims: [{ path: 'groups', contains: `team-${i}` }] }
      : kind === 2 ? { tools: [tool], arguments: [{ path: 'path', within: [`/data/${i}`], not: true }] }
      : kind === 3 ? { upstreams: ['acme', 'fs*'], tools: [tool], arguments: [{ path: 'to', glob: `*@corp${i}.example` }] }
      : { tools: [tool], reasons: ['rate.tool', 'burst.rate'], scopes: { none: [`scope:${i}`] } };
    rules.push({ id: `rule-${i}`, match, action: (['allow', 'throttle', 'approve', 'block'] as const)[i % 4] });
  }
  const policy = validatePolicy(
    {
      version: 'bench',
      sensitivity: [
        { tools: ['echo', 'read_*', 'search_files', 'list_*'], level: 'low', class: 'read' },
        { tools: ['write_file'], level: 'medium', class: 'write' },
        { tools: ['delete_record', 'export_customers', 'send_email'], level: 'high' },
        { tools: ['transfer_funds', 'run_shell'], level: 'critical' },
        { tools: ['transfer_funds'], when: [{ path: 'amount', gt: 10000 }], level: 'critical' },
        { tools: ['read_*', 'write_file'], when: [{ path: 'path', regex: '(^|/)\\.env$' }], level: 'high' },
      ],
      anomalies: { context: { maxTokenAge: '1h', hours: { timezone: 'Europe/Berlin' } } },
      rules,
    },
    'bench-policy',
  );
  return compilePolicy(policy);
}

function principalFor(i: number): Principal {
  return {
    issuer: 'https://idp.example.com', user: `user-${i % 50}@acme.example`, actor: `agent-${i % 7}`, priorActors: [],
    clientId: 'client', scopes: ['files:read', `scope:${i % 100}`], sessionId: undefined, authTime: 1_767_607_000,
    acr: undefined, amr: [], issuedAt: 1_767_607_000, expiresAt: undefined, tokenId: undefined,
    claims: { groups: ['support', `team-${i % 100}`], tenant: 'acme' }, anonymous: false,
  };
}

function argsFor(tool: string, i: number): Record<string, unknown> {
  switch (tool) {
    case 'transfer_funds': return { amount: (i * 37) % 20000, currency: 'EUR', payee: `DE${i % 1000}` };
    case 'read_file': case 'write_file': return { path: `/data/${i % 120}/reports/q${i % 4}.csv`, content: 'x'.repeat(200) };
    case 'send_email': return { to: `someone@corp${i % 100}.example`, subject: 'Report', body: 'Hello '.repeat(40) };
    case 'run_shell': return { command: 'git status' };
    case 'search_files': return { path: '/data', pattern: '*.csv', excludePatterns: ['node_modules'] };
    default: return { id: i, page: i % 10, filter: { country: 'DE', tags: ['a', 'b', 'c'] } };
  }
}

function inputs(n: number): EvaluateInput[] {
  const now = Date.UTC(2026, 0, 5, 10, 0, 0);
  return Array.from({ length: n }, (_, i) => {
    const tool = TOOLS[i % TOOLS.length] as string;
    const signals = emptySignals();
    return {
      principal: principalFor(i),
      call: { upstream: i % 3 === 0 ? 'fs' : 'acme', tool, arguments: argsFor(tool, i), toolDefinition: undefined },
      signals: i % 11 === 0 ? { ...signals, rate: { ...signals.rate, tool: 500 } } : signals,
      now: now + i,
    };
  });
}

function percentile(sorted: BigInt64Array, p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]) / 1000;
}

function measureEvaluate(policy: CompiledPolicy, data: EvaluateInput[], rounds: number) {
  const lat = new BigInt64Array(data.length * rounds);
  let k = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const input of data) {
      const s = process.hrtime.bigint();
      sink += evaluate(policy, input).score;
      lat[k++] = process.hrtime.bigint() - s;
    }
  }
  const totalNs = Number(process.hrtime.bigint() - t0);
  lat.sort();
  return { perSec: (data.length * rounds) / (totalNs / 1e9), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), sink };
}

/**
 * Throughput of evaluate alone without per-call timing overhead, by wall clock and by this
 * process's CPU time (the honest "one core" figure when other work shares the machine).
 */
function throughput(policy: CompiledPolicy, data: EvaluateInput[], rounds: number): { wall: number; cpu: number } {
  let sink = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const input of data) sink += evaluate(policy, input).score;
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  if (sink < 0) throw new Error('unreachable');
  const n = data.length * rounds;
  return { wall: n / (ns / 1e9), cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

async function measureWithSignals(policy: CompiledPolicy, data: EvaluateInput[]) {
  const store = new MemoryStateStore();
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  for (const [i, input] of data.entries()) {
    const req = { ...input.call, principal: input.principal, sessionId: `s${i % 50}`, remoteAddress: '10.0.0.1', userAgent: 'ua', clientInfo: { name: 'c', version: '1' } } as unknown as ToolCallRequest;
    const s = process.hrtime.bigint();
    const signals = await collectSignals(store, req, input.now, signalOptionsFor(policy, req));
    evaluate(policy, { ...input, signals });
    lat.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  return { perSec: data.length / totalS, p50: lat[Math.floor(lat.length / 2)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0 };
}

/** Decision engine benchmark: evaluate alone (target >= 200k/s, p99 < 50 µs), and with collectSignals. */
export async function runPolicyBench(): Promise<BenchReport> {
  const policy = benchPolicy();
  const data = inputs(5000);
  measureEvaluate(policy, data, 4); // warm-up (JIT, lookup memo)
  const runs = [throughput(policy, data, 40), throughput(policy, data, 40), throughput(policy, data, 40)];
  const wall = runs.map((r) => r.wall).sort((a, b) => a - b)[1] ?? 0;
  const cpu = runs.map((r) => r.cpu).sort((a, b) => a - b)[1] ?? 0;
  const load = (await import('node:os')).loadavg()[0] ?? 0;
  const timed = measureEvaluate(policy, data, 20);
  await measureWithSignals(policy, inputs(5000));
  const full = await measureWithSignals(policy, inputs(20000));
  const ok = cpu >= 200_000 && timed.p99 < 50;
  return {
    name: 'policy',
    ok,
    targets: [
      { figure: `evaluate ${Math.round(cpu).toLocaleString('en-US')} decisions/CPU-s`, target: '≥ 200,000/s', met: cpu >= 200_000 },
      { figure: `evaluate p99 ${timed.p99.toFixed(2)} µs`, target: '< 50 µs', met: timed.p99 < 50 },
    ],
    lines: [
      `policy: ${policy.rules.length} rules, ${policy.classify.length} sensitivity entries, 5000 distinct calls`,
      `evaluate: ${Math.round(cpu).toLocaleString('en-US')} decisions per CPU-second on one core (median of 3 runs; target >= 200,000)`,
      `evaluate: ${Math.round(wall).toLocaleString('en-US')} decisions/s by wall clock (1-min load average ${load.toFixed(1)})`,
      `evaluate latency: p50 ${timed.p50.toFixed(2)} µs, p99 ${timed.p99.toFixed(2)} µs (target p99 < 50 µs)`,
      `collectSignals + evaluate (MemoryStateStore): ${Math.round(full.perSec).toLocaleString('en-US')} calls/s, p50 ${full.p50.toFixed(1)} µs, p99 ${full.p99.toFixed(1)} µs`,
      `target ${ok ? 'met' : 'NOT met'}`,
    ],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runPolicyBench().then(
    (r) => {
      for (const line of r.lines) process.stdout.write(`${line}\n`);
      process.exitCode = r.ok ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
