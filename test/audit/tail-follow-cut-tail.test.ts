import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { readRecords } from '../../src/audit/read-records.js';
import { CLI, captureLogger, requireBuild, tempDir } from './audit-test-helpers.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';

/**
 * A crash cuts a write off mid-record: the log ends in a torn line. `warden audit tail -f`, left
 * running in an operator's terminal, reads those bytes and holds them as the start of a line.
 * The next warden start cuts the torn line off (the file gets shorter) and appends
 * `audit.recovered` where it was. Reading on from where it had stopped, tail glued the torn
 * bytes to the middle of the new record and skipped the result as not a record: the very record
 * that says the previous run crashed never showed. The same happens when a write a full disk cut
 * short is cut back. An incomplete last line is now read again from its start once it grows.
 */
const started = closedAfterEach();

beforeAll(() => requireBuild());

describe('warden audit tail -f over a torn last line that a restart cuts off', () => {
  it('shows the audit.recovered record written where the torn line was', async () => {
    const dir = tempDir('warden-tail-cut-');
    const file = join(dir, 'warden-audit.jsonl');
    const first = await openAuditSink({ file }, { logger: captureLogger().logger });
    for (let i = 0; i < 3; i++) first.record({ type: 'call.forwarded', callId: `c-${i}`, upstream: 'fs', tool: 'read_file' });
    await first.close();
    // The crash: a record cut off after a few bytes.
    appendFileSync(file, '{"callId":"c-3","has');

    const child = spawn(process.execPath, [CLI, 'audit', 'tail', file, '-f', '-n', '1'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    started.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (done: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 15_000; !done() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    };
    // The last record printed: tail follows the file from here on.
    await until(() => out.includes('c-2'));
    expect(out).toContain('c-2');
    out = '';
    // Bytes appended to the torn line reach tail as more of it.
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(file, 'h":"');
    await new Promise((r) => setTimeout(r, 500));

    // The restart: the torn line is cut off and audit.recovered takes its place.
    const second = await openAuditSink({ file }, { logger: captureLogger().logger });
    second.record({ type: 'call.forwarded', callId: 'c-after', upstream: 'fs', tool: 'read_file' });
    await second.close();
    const seqs = readRecords([file]).map((r) => r.seq);
    const recovered = readRecords([file]).find((r) => r.type === 'audit.recovered');
    expect(recovered?.reasons).toContain('torn_tail');

    await until(() => out.includes('c-after'));
    child.kill('SIGINT');
    expect(out).toContain(`#${recovered?.seq} audit.recovered`);
    // Every record written after tail started, in order, and nothing else.
    const shown = [...out.matchAll(/ #(\d+) /g)].map((m) => Number(m[1]));
    expect(shown).toEqual(seqs.filter((s) => s >= (recovered?.seq ?? 0)));
  }, 30_000);
});
