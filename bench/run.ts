import { cpus, totalmem } from 'node:os';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchReport } from './bench-report.js';

/** One row of the summary: a headline figure against its target. */
interface Row {
  readonly bench: string;
  readonly figure: string;
  readonly target: string;
  /** Per-row verdict where the figure could be read; otherwise the bench's own `ok`. */
  readonly met: boolean;
}

const num = (s: string): number => Number(s.replace(/,/g, ''));

/**
 * Headline figures per bench, read from the lines each bench prints (benches only return
 * `{name, lines, ok}`). A bench without an entry, or whose lines changed shape, still gets a
 * row carrying its own verdict.
 */
const HEADLINES: Record<string, (lines: readonly string[]) => Omit<Row, 'bench'>[]> = {
  proxy: (lines) => pick(lines, [
    [/p50 ratio ([\d.]+)x \(target ≤ ([\d.]+)x\)/, (m) => ({ figure: `warden p50 ${m[1]}x direct (sequential echo)`, target: `≤ ${m[2]}x`, met: num(m[1]!) <= num(m[2]!) })],
    [/throughput ratio ([\d.]+)x \(target ≥ ([\d.]+)x\)/, (m) => ({ figure: `throughput ${m[1]}x direct (16 in flight)`, target: `≥ ${m[2]}x`, met: num(m[1]!) >= num(m[2]!) })],
  ]),
  identity: (lines) => pick(lines, [
    [/p50 (\d+) ns\/call .*target < (\d+) ns/, (m) => ({ figure: `cached token check p50 ${m[1]} ns/call`, target: `< ${m[2]} ns`, met: num(m[1]!) < num(m[2]!) })],
    [/cache hit ratio: ([\d.]+)% .*target > ([\d.]+)%/, (m) => ({ figure: `cache hit ratio ${m[1]}%`, target: `> ${m[2]}%`, met: num(m[1]!) > num(m[2]!) })],
  ]),
  policy: (lines) => pick(lines, [
    [/evaluate: ([\d,]+) decisions per CPU-second.*target >= ([\d,]+)/, (m) => ({ figure: `evaluate ${m[1]} decisions/CPU-s`, target: `≥ ${m[2]}/s`, met: num(m[1]!) >= num(m[2]!) })],
    [/evaluate latency: .*p99 ([\d.]+) µs \(target p99 < ([\d.]+) µs\)/, (m) => ({ figure: `evaluate p99 ${m[1]} µs`, target: `< ${m[2]} µs`, met: num(m[1]!) < num(m[2]!) })],
  ]),
  audit: (lines) => pick(lines, [
    [/target >= ([\d,]+) chained records\/s.*\(([\d,]+)\)/, (m) => ({ figure: `${m[2]} chained records/CPU-s (sync)`, target: `≥ ${m[1]}/s`, met: num(m[2]!) >= num(m[1]!) })],
  ]),
  enforce: (lines) => pick(lines, [
    [/enforce (\w+)\s+p50 ([\d.]+) µs .*target p50 ≤ ([\d.]+) µs/, (m) => ({ figure: `enforce ${m[1]} p50 ${m[2]} µs`, target: `≤ ${m[3]} µs`, met: num(m[2]!) <= num(m[3]!) })],
  ]),
  // events-bench.ts judges the worst p50 against 2000 ns without printing the target.
  events: (lines) => pick(lines, [
    [/evaluate (.+?)\s+p50 (\d+) ns/, (m) => ({ figure: `evaluate (${m[1]}) p50 ${m[2]} ns`, target: '< 2000 ns', met: num(m[2]!) < 2000 })],
  ]),
};

type Matcher = [RegExp, (m: RegExpMatchArray) => Omit<Row, 'bench'>];

/** Every line matching any matcher, in line order. */
function pick(lines: readonly string[], matchers: readonly Matcher[]): Omit<Row, 'bench'>[] {
  const rows: Omit<Row, 'bench'>[] = [];
  for (const line of lines) {
    for (const [re, make] of matchers) {
      const m = line.match(re);
      if (m) rows.push(make(m));
    }
  }
  return rows;
}

function rowsFor(bench: string, report: BenchReport): Row[] {
  const rows = (HEADLINES[bench]?.(report.lines) ?? []).map((r) => ({ bench, ...r }));
  return rows.length > 0 ? rows : [{ bench, figure: '(see the lines above)', target: '(bench-defined)', met: report.ok }];
}

function table(rows: readonly Row[]): string {
  const head: Row = { bench: 'bench', figure: 'figure', target: 'target', met: true };
  const w = (k: 'bench' | 'figure' | 'target'): number => Math.max(...[head, ...rows].map((r) => r[k].length));
  const line = (r: Row, status: string): string => `${r.bench.padEnd(w('bench'))}  ${r.figure.padEnd(w('figure'))}  ${r.target.padEnd(w('target'))}  ${status}`;
  return [line(head, 'result'), ...rows.map((r) => line(r, r.met ? 'MET' : 'MISSED'))].join('\n');
}

/** The order the issue lists them in; any other `*-bench.js` found runs after these. */
const ORDER = ['proxy', 'identity', 'policy', 'audit', 'enforce', 'events'];

/**
 * `npm run bench`: runs every `*-bench.js` next to this file (dist/bench) one after another through
 * its exported `run…Bench()`, prints each report, then a summary table (bench, figure, target,
 * MET/MISSED). Always exits 0: a missed target is a finding to read, not a failed build.
 */
async function main(): Promise<void> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const names = readdirSync(dir).filter((f) => f.endsWith('-bench.js')).map((f) => f.slice(0, -'-bench.js'.length));
  names.sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const cpu = cpus();
  process.stdout.write(`mcp-warden benchmarks: ${names.join(', ')}\nmachine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${new Date().toISOString()}\n`);
  const rows: Row[] = [];
  for (const name of names) {
    const started = Date.now();
    const mod = (await import(pathToFileURL(join(dir, `${name}-bench.js`)).href)) as Record<string, unknown>;
    const entry = Object.entries(mod).find(([key, value]) => /^run.*Bench$/.test(key) && typeof value === 'function');
    if (!entry) {
      rows.push({ bench: name, figure: 'no run…Bench() export', target: '-', met: false });
      continue;
    }
    try {
      const report = await (entry[1] as () => Promise<BenchReport>)();
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`\n== ${report.name} (${secs} s)\n${report.lines.map((l) => `  ${l}`).join('\n')}\n  ${report.ok ? 'target met' : 'target MISSED'}\n`);
      rows.push(...rowsFor(name, report));
    } catch (err) {
      process.stdout.write(`\n== ${name}\n  benchmark failed: ${(err as Error).message}\n`);
      rows.push({ bench: name, figure: `failed: ${(err as Error).message}`.slice(0, 80), target: '-', met: false });
    }
    (globalThis as { gc?: () => void }).gc?.();
  }
  const missed = rows.filter((r) => !r.met).length;
  process.stdout.write(`\nSummary\n${table(rows)}\n\n${names.length} benchmark(s), ${rows.length} target(s): ${rows.length - missed} MET, ${missed} MISSED\n`);
}

await main();
process.exit(0);
