import { describe, expect, it } from 'vitest';
import { readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordAll } from '../../src/audit/batch-audit.js';
import type { AuditEvent, AuditSink } from '../../src/audit/audit-sink.js';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath, logSet } from '../../src/audit/log-files.js';
import { readRecords } from '../../src/audit/read-records.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { codeOf, manualClock, tempDir } from './audit-test-helpers.js';

const step = (type: AuditEvent['type'], i: number): AuditEvent => ({ type, callId: `c${i}`, sessionId: 's1' });
const steps = (i: number): AuditEvent[] => [step('call.received', i), step('call.risk', i), step('call.decision', i)];

describe('FileAuditSink.recordBatch (the write-ahead steps of one call in one write)', () => {
  it('has every record of the batch in the file, chained in order, when it returns', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const sink = await openAuditSink({ file });
    sink.record(step('call.result', 0));
    for (let i = 1; i <= 10; i++) {
      sink.recordBatch(steps(i));
      expect(readFileSync(file, 'utf8')).toContain(`"callId":"c${i}","hash"`);
      expect(readRecords([file]).filter((r) => r.callId === `c${i}`).map((r) => r.type)).toEqual(['call.received', 'call.risk', 'call.decision']);
    }
    expect(sink.lastSeq).toBe(31);
    await sink.close();
    expect(readRecords([file]).map((r) => r.seq)).toEqual(Array.from({ length: 31 }, (_, k) => k + 1));
    expect(verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });

  it('redacts and digests arguments in batched records like single ones', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const sink = await openAuditSink({ file });
    sink.recordBatch([{ type: 'call.received', callId: 'c1', args: { password: 'hunter2', q: 'Bearer abcdefghijklmnop' } }, step('call.risk', 1)]);
    await sink.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abcdefghijklmnop');
    expect(readRecords([file])[0]).toMatchObject({ argsDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
  });

  it('rotates before a batch that would overflow the file, never inside it', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const sink = await openAuditSink({ file, maxFileBytes: 2048 });
    for (let i = 0; i < 20; i++) sink.recordBatch(steps(i));
    await sink.close();
    const files = logSet(file);
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) {
      // Each file holds whole calls: a batch is never split across two files.
      const types = readRecords([f]).map((r) => r.type);
      expect(types.length % 3).toBe(0);
      expect(types[0]).toBe('call.received');
    }
    expect(verifyAuditFiles(files, { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });

  it('throws audit_unavailable when the log cannot be written (path retargeted to /dev/full), advances nothing, and recovers like record()', async () => {
    // A write cut short by a real full disk is in partial-write.test.ts (needs a tmpfs); here the
    // path check inside the batch's write finds the log replaced by a device warden refuses.
    const dir = tempDir();
    const file = join(dir, 'a.jsonl');
    const real = join(dir, 'real.jsonl');
    writeFileSync(real, '');
    symlinkSync(real, file);
    const clock = manualClock();
    const sink = await openAuditSink({ file }, { clock: clock.now });
    for (let i = 0; i < 21; i++) sink.recordBatch(steps(i)); // 63 records: the next write checks the path
    unlinkSync(file);
    symlinkSync('/dev/full', file);
    const before = readFileSync(real);
    expect(codeOf(() => sink.recordBatch(steps(100)))).toBe('audit_unavailable');
    expect(codeOf(() => sink.recordBatch(steps(101)))).toBe('audit_unavailable');
    expect(sink.lastSeq).toBe(63);
    expect(sink.healthy()).toBe(false);
    expect(readFileSync(real).equals(before)).toBe(true);
    clock.advance(10_000);
    expect(codeOf(() => sink.recordBatch(steps(102)))).toBe('audit_unavailable'); // /dev/full is refused
    unlinkSync(file);
    symlinkSync(real, file);
    clock.advance(10_000);
    sink.recordBatch(steps(3));
    await sink.close();
    const records = readRecords([file]).slice(63);
    expect(records.map((r) => r.type)).toEqual(['audit.recovered', 'call.received', 'call.risk', 'call.decision']);
    expect(records.map((r) => r.seq)).toEqual([64, 65, 66, 67]);
    expect(verifyAuditFiles([file]).ok).toBe(true);
  });
});

describe('recordAll', () => {
  it('falls back to one record() per event, in order, for sinks without batches', () => {
    const seen: string[] = [];
    const sink: AuditSink = { record: (e) => void seen.push(e.type), healthy: () => true, close: async () => undefined };
    recordAll(sink, steps(1));
    expect(seen).toEqual(['call.received', 'call.risk', 'call.decision']);
  });
});
