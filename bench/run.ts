import { cpus, totalmem } from 'node:os';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchReport, BenchTarget } from './bench-report.js';

/** One row of the summary: a headline figure against its target. */
interface Row extends BenchTarget {
  readonly bench: string;
}

/** The bench's own headline figures, or one row carrying its overall verdict. */
function rowsFor(bench: string, report: BenchReport): Row[] {
  const rows = (report.targets ?? []).map((t) => ({ bench, ...t }));
  return rows.length > 0 ? rows : [{ bench, figure: '(see the lines above)', target: '(bench-defined)', met: report.ok }];
}

function table(rows: readonly Row[]): string {
  const head: Row = { bench: 'bench', figure: 'figure', target: 'target', met: true };
  const w = (k: 'bench' | 'figure' | 'target'): number => Math.max(...[head, ...rows].map((r) => r[k].length));
  const line = (r: Row, status: string): string => `${r.bench.padEnd(w('bench'))}  ${r.figure.padEnd(w('figure'))}  ${r.target.padEnd(w('target'))}  ${status}`;
  return [line(head, 'result'), ...rows.map((r) => line(r, r.met ? 'MET' : 'MISSED'))].join('\n');
}

/** The order the issue lists them in; any other `*-bench.js` found runs after these. */
const ORDER = ['proxy', 'identity', 'policy', 'audit', 'enforce', 'events', 'audit-overhead'];

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
