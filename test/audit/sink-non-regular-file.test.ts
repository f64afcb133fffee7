import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuild, tempDir } from './audit-test-helpers.js';

/**
 * Whoever can write the log's folder puts a FIFO at the audit path (while warden runs, or before
 * it starts). The sink opened whatever was at the path and wrote to it: a FIFO takes 64 KiB, then
 * write(2) blocks, and with it warden's only thread. Every session hung, no call was answered (not
 * even refused), and SIGTERM's handler could not run. A disk that is full fails closed; a FIFO
 * must too. The scenarios run in a child process: a hang there is a timeout here, not a stuck run.
 */
const OPEN = join(ROOT, 'dist/src/audit/open-audit-sink.js');

/** Runs `body` (ESM, with openAuditSink, mkfifo and the manual clock in scope) in a child; its JSON result, or 'hung'. */
function child(dir: string, body: string): unknown {
  const script = `
    import { openAuditSink } from ${JSON.stringify(OPEN)};
    import { execFileSync } from 'node:child_process';
    import { rmSync } from 'node:fs';
    const dir = ${JSON.stringify(dir)};
    const file = dir + '/warden-audit.jsonl';
    const mkfifo = (p) => execFileSync('mkfifo', [p]);
    let now = Date.UTC(2026, 10, 22);
    const clock = () => now;
    const record = (sink, i) => sink.record({ type: 'call.decision', callId: 'c' + i, action: 'allow', pad: 'x'.repeat(200) });
    ${body}
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return 'hung';
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

beforeAll(() => requireBuild());

describe('a FIFO at the audit path fails closed instead of hanging warden', () => {
  it('replaced by a FIFO while warden runs: records are refused (audit_unavailable), the process does not block', () => {
    const result = child(tempDir('warden-sink-fifo-'), `
      const sink = await openAuditSink({ file }, { clock });
      record(sink, 0);
      rmSync(file);
      mkfifo(file);
      let written = 0, refused = 0;
      for (let i = 1; i <= 2000; i++) {
        now += 1000; // past every backoff: each record may try to reopen the path
        try { record(sink, i); written += 1; } catch (err) { if (err.code !== 'audit_unavailable') throw err; refused += 1; }
      }
      console.log(JSON.stringify({ written, refused, healthy: sink.healthy() }));
      process.exit(0);
    `);
    expect(result).not.toBe('hung');
    const r = result as { written: number; refused: number; healthy: boolean };
    // At most the records before the swap was noticed (64 records or one second) went to the unlinked file.
    expect(r.written).toBeLessThanOrEqual(64);
    expect(r.refused).toBeGreaterThanOrEqual(2000 - 64);
    expect(r.healthy).toBe(false);
  }, 30_000);

  it('a FIFO at the path at start-up: start-up fails (audit_unavailable) instead of starting on it', () => {
    const result = child(tempDir('warden-sink-fifo-'), `
      mkfifo(file);
      try {
        const sink = await openAuditSink({ file }, { clock });
        for (let i = 0; i < 2000; i++) record(sink, i);
        console.log(JSON.stringify({ started: true }));
      } catch (err) {
        console.log(JSON.stringify({ started: false, code: err.code }));
      }
      process.exit(0);
    `);
    expect(result).toEqual({ started: false, code: 'audit_unavailable' });
  }, 30_000);

  it('a FIFO under the newest rotated name: start-up fails instead of blocking on opening it', () => {
    const result = child(tempDir('warden-sink-fifo-'), `
      // An empty active file: the chain continues from the newest rotated file, which is read.
      execFileSync('touch', [file]);
      mkfifo(dir + '/warden-audit.7.jsonl');
      try {
        await openAuditSink({ file }, { clock });
        console.log(JSON.stringify({ started: true }));
      } catch (err) {
        console.log(JSON.stringify({ started: false, message: String(err.message) }));
      }
      process.exit(0);
    `);
    expect(result).not.toBe('hung');
    expect(result).toMatchObject({ started: false, message: expect.stringContaining('not a regular file') });
  }, 30_000);

  it('a FIFO at the writer lock: start-up and close neither block on reading it', () => {
    const result = child(tempDir('warden-sink-fifo-'), `
      mkfifo(file + '.lock');
      const out = {};
      try {
        const sink = await openAuditSink({ file }, { clock });
        record(sink, 0);
        out.started = true;
        // Replaced again while running: close reads the lock to release it.
        rmSync(file + '.lock');
        mkfifo(file + '.lock');
        await sink.close();
        out.closed = true;
      } catch (err) {
        out.started ??= false;
        out.code = err.code;
      }
      console.log(JSON.stringify(out));
      process.exit(0);
    `);
    expect(result).not.toBe('hung');
    // An old leftover in the lock's place (no pid to read) is taken over, as an empty one is.
    expect(result).toEqual({ started: true, closed: true });
  }, 30_000);
});
