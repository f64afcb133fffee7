import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (e.g. `NODE_OPTIONS=--cpu-prof` on `warden run`): share of busy
 * samples per function, self and inclusive. Counts samples rather than time deltas, so time the
 * process spent descheduled on a loaded machine is not charged to the syscall it was in.
 *
 *   node dist/bench/cpuprofile-summary.js <file.cpuprofile> [top=30] [inclusive function names...]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

export function summarise(profile: Profile, top: number, inclusive: readonly string[]): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>(inclusive.map((n) => [n, 0]));
  let busy = 0;
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    busy += 1;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur)?.callFrame.functionName ?? '';
      if (incl.has(name) && !seen.has(name)) {
        seen.add(name);
        incl.set(name, (incl.get(name) ?? 0) + 1);
      }
    }
  }
  const pct = (n: number) => `${((100 * n) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const lines = [`busy samples: ${busy}`, '-- self'];
  for (const [k, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(n)}  ${k}`);
  if (incl.size > 0) lines.push('-- inclusive');
  for (const [k, n] of incl) lines.push(`${pct(n)}  ${k}`);
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top = '30', ...names] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/cpuprofile-summary.js <file.cpuprofile> [top] [function names...]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  process.stdout.write(`${summarise(profile, Number(top), names).join('\n')}\n`);
}
