import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchReport } from './bench-report.js';

/**
 * Runs every `*-bench.js` next to this file (dist/bench) through its exported `run…Bench()`
 * and prints each report. Always exits 0; a missed target is printed as MISSED.
 */
async function main(): Promise<void> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('-bench.js')).sort();
  let missed = 0;
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    const entry = Object.entries(mod).find(([name, value]) => /^run.*Bench$/.test(name) && typeof value === 'function');
    if (!entry) {
      process.stdout.write(`${file}: no run…Bench() export, skipped\n`);
      continue;
    }
    try {
      const report = await (entry[1] as () => Promise<BenchReport>)();
      if (!report.ok) missed++;
      process.stdout.write(`\n== ${report.name}\n${report.lines.map((l) => `  ${l}`).join('\n')}\n  ${report.ok ? 'OK: target met' : 'MISSED: target not met'}\n`);
    } catch (err) {
      missed++;
      process.stdout.write(`\n== ${file}\n  MISSED: benchmark failed: ${(err as Error).message}\n`);
    }
  }
  process.stdout.write(`\n${files.length} benchmark(s), ${missed} MISSED\n`);
}

await main();
process.exit(0);
