import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';

/**
 * `warden audit tail -n N -f` on a busy log: it read the last N records, printed them, and only
 * then opened the file again to follow it from its end. Records written while it printed were in
 * neither: missing from the terminal of an operator watching an incident, with nothing to say so.
 * Printing many records takes long enough to see it (formatting 50,000 lines takes most of a
 * second); records appended all the while must all show, in order.
 */
const started = closedAfterEach();
const line = (seq: number, callId: string): string => `${JSON.stringify({ v: 1, seq, ts: '2026-11-22T10:00:00.000Z', type: 'call.forwarded', callId, upstream: 'fs', tool: 'read_file' })}\n`;

beforeAll(() => requireBuild());

describe('warden audit tail -n N -f on a log being written', () => {
  it('shows every record written while it printed the last N (no gap between reading and following)', async () => {
    const file = join(tempDir('warden-tail-gap-'), 'warden-audit.jsonl');
    const initial = 50_000;
    writeFileSync(file, Array.from({ length: initial }, (_, i) => line(i + 1, `c-old-${i + 1}`)).join(''));
    const child = spawn(process.execPath, [CLI, 'audit', 'tail', file, '-f', '-n', String(initial)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    started.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Appends one record every 5 ms from the start until the follower shows a record appended after it printed.
    let seq = initial;
    let afterPrint: number | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      seq += 1;
      appendFileSync(file, line(seq, `c-new-${seq}`));
      if (afterPrint === undefined && out.includes(`c-old-${initial} `)) afterPrint = seq + 20;
      if (afterPrint !== undefined && seq >= afterPrint && out.includes(`c-new-${afterPrint} `)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGINT');
    expect(afterPrint).toBeDefined();
    const shown = [...out.matchAll(/ #(\d+) /g)].map((m) => Number(m[1]));
    const last = shown.at(-1) as number;
    // The last N as they were, then every later record once, in order: no seq skipped or repeated.
    expect(shown[0]).toBeGreaterThanOrEqual(1);
    expect(shown).toEqual(Array.from({ length: shown.length }, (_, i) => (shown[0] as number) + i));
    expect(last).toBeGreaterThanOrEqual(afterPrint as number);
  }, 60_000);
});
