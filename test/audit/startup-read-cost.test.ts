import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';

/**
 * Start-up checks that the log still holds the checkpoint's record, reading back from the end.
 * A checkpoint far behind the log (an older one put back, checkpoint writes that failed for a
 * while, a large everyRecords with the timer off and a crash) must not turn that into a read of
 * a 64 KiB block per line: on 200,000 records that took 12 s, a million about a minute, while
 * the start-up (and every call) waited. Counted in bytes read, not in time.
 */
const read = vi.hoisted(() => ({ bytes: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readSync = ((...args: Parameters<typeof fs.readSync>) => {
    const n = (fs.readSync as (...a: unknown[]) => number)(...args);
    read.bytes += n;
    return n;
  }) as typeof fs.readSync;
  return { ...fs, default: { ...fs, readSync }, readSync };
});

const { openAuditSink } = await import('../../src/audit/open-audit-sink.js');
const { statSync } = await import('node:fs');
const { tempDir } = await import('./audit-test-helpers.js');

describe('start-up read cost with a checkpoint far behind the log', () => {
  it('reads the records after the checkpoint about once, not a 64 KiB block per line', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const cfg = { file, checkpoint: { everyRecords: 10_000_000, maxDelayMs: 0 } };
    const a = await openAuditSink(cfg);
    a.record({ type: 'call.decision', callId: 'first' });
    a.checkpoint();
    for (let i = 0; i < 20_000; i++) a.record({ type: 'call.decision', callId: `c${i}`, action: 'allow' });
    // No close(): a crash, so the checkpoint stays at seq 2.
    (a as unknown as { lock: string }).lock = '';
    const size = statSync(file).size;
    read.bytes = 0;
    const b = await openAuditSink(cfg);
    expect(b.lastSeq).toBe(20_002); // the 20,001 records and the restart's audit.recovered
    await b.close();
    expect(read.bytes).toBeLessThan(4 * size);
  }, 120_000);
});

describe('linesBackwards', () => {
  it('yields every complete line newest first, whatever the block boundaries', async () => {
    const { linesBackwards } = await import('../../src/audit/log-files.js');
    const { openSync, closeSync, writeFileSync } = await import('node:fs');
    const path = join(tempDir(), 'lines.txt');
    // Lines around and across the 1 MiB block size, an empty one, and a long first line.
    const lines = ['x'.repeat(1024 * 1024 + 7), '', 'a', 'y'.repeat(1024 * 1024 - 1), 'é'.repeat(300_000), 'last'];
    const text = `${lines.join('\n')}\n`;
    writeFileSync(path, text);
    const fd = openSync(path, 'r');
    try {
      const got = [...linesBackwards(fd, Buffer.byteLength(text) - 1)].map((b) => b.toString('utf8'));
      expect(got).toEqual([...lines].reverse());
    } finally {
      closeSync(fd);
    }
  });
});
