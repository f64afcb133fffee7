import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { tempDir } from './audit-test-helpers.js';

/**
 * Bytes that are not valid UTF-8 decode to U+FFFD, and different bad bytes decode alike: an edit
 * of a record holding U+FFFD (an agent's argument can) that swaps its three bytes EF BF BD for one
 * invalid byte keeps the decoded text, so the hash still matches. Verify checks the bytes and
 * reports the line as modified; start-up did not, and went on chaining onto it: the next signed
 * checkpoint vouched for a line verify rejects. Start-up now refuses it as verify does.
 */
const REPLACEMENT = Buffer.from('\uFFFD', 'utf8');

/** Replaces the first U+FFFD of line `seq` (1-based) with the invalid byte 0xFF. */
function corrupt(file: string, seq: number): void {
  const bytes = readFileSync(file);
  let start = 0;
  for (let i = 1; i < seq; i++) start = bytes.indexOf(0x0a, start) + 1;
  const at = bytes.indexOf(REPLACEMENT, start);
  expect(at).toBeGreaterThan(-1);
  expect(at).toBeLessThan(bytes.indexOf(0x0a, start));
  writeFileSync(file, Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + REPLACEMENT.length)]));
}

const call = (i: number) => ({ type: 'call.received' as const, callId: `c${i}`, args: { text: `before \uFFFD after ${i}` } });

describe('start-up on a log whose bytes were edited into invalid UTF-8', () => {
  it('refuses a last line that verify reports as modified (audit_corrupt)', async () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    const sink = await openAuditSink({ file });
    for (let i = 0; i < 3; i++) sink.record(call(i));
    await sink.close();
    corrupt(file, 3);
    expect(verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) }).problem).toMatchObject({ code: 'modified_record', line: 3 });
    await expect(openAuditSink({ file })).rejects.toMatchObject({ code: 'audit_corrupt' });
  });

  it('refuses when the record at the checkpoint\'s seq was edited so (audit_corrupt)', async () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    const sink = await openAuditSink({ file, checkpoint: { maxDelayMs: 0 } });
    for (let i = 0; i < 3; i++) sink.record(call(i));
    sink.checkpoint(); // vouches for seq 3
    for (let i = 3; i < 5; i++) sink.record(call(i));
    // No close: a crash; the checkpoint stays at seq 3.
    corrupt(file, 3);
    expect(verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) }).problem).toMatchObject({ code: 'modified_record', line: 3 });
    await expect(openAuditSink({ file })).rejects.toMatchObject({ code: 'audit_corrupt' });
  });
});
