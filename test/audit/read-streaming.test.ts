import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS_HASH, encodeRecord } from '../../src/audit/record-codec.js';
import { lastRecords, parseRecords, streamRecords } from '../../src/audit/read-records.js';
import { writeJsonArray } from '../../src/audit/cli-format.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { tempDir } from './audit-test-helpers.js';

/** A clean chained set of `n` records, `perFile` per file, as lines per file. */
function chain(n: number, perFile: number): string[][] {
  const files: string[][] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const { line, hash } = encodeRecord({ type: 'call.decision', callId: `c${seq}`, tool: seq % 2 ? '漢字🙂' : 'read_file' }, { seq, ts: '2026-11-22T10:00:00.000Z', prev });
    prev = hash;
    if (seq % perFile === 1 || perFile === 1) files.push([]);
    (files.at(-1) as string[]).push(line.trimEnd());
  }
  return files;
}

function write(set: string[][], tail = '\n'): string[] {
  const dir = tempDir('warden-read-');
  return set.map((lines, i) => {
    const f = join(dir, `warden-audit.${i + 1}.jsonl`);
    writeFileSync(f, lines.join('\n') + (lines.length ? tail : ''));
    return f;
  });
}

describe('streamRecords and lastRecords', () => {
  const files = write(chain(23, 5));

  it('yield what parsing each whole file yielded, in file order, whatever the chunk size', () => {
    const whole = files.flatMap((f) => parseRecords(readFileSync(f, 'utf8')));
    for (const chunkBytes of [1, 7, 1 << 20]) expect([...streamRecords(files, { chunkBytes })]).toEqual(whole);
    expect(whole.map((r) => r.seq)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  });

  it('keep only the last N in a ring', () => {
    const seqs = (n: number): number[] => lastRecords(files, n, { chunkBytes: 3 }).map((r) => r.seq);
    expect(seqs(0)).toEqual([]);
    expect(seqs(1)).toEqual([23]);
    expect(seqs(4)).toEqual([20, 21, 22, 23]);
    expect(seqs(23)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(seqs(100)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  });

  it('skip lines that are not records, and over-long lines, without losing the next one', () => {
    const set = chain(4, 4);
    set[0]?.splice(2, 0, 'junk', `{"seq":99,"type":"x","pad":"${'p'.repeat(5000)}"}`);
    const [f] = write([set[0] as string[]]);
    expect([...streamRecords([f as string], { chunkBytes: 64, maxLineBytes: 1000 })].map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('verify with lines beyond the line bound', () => {
  const long = (head: string): string => `${head}${'x'.repeat(5000)}`;
  const opts = { chunkBytes: 256, maxLineBytes: 1000 };

  it('an over-long line appended after the last record is garbage', () => {
    const set = chain(6, 6);
    set[0]?.push(long('garbage '));
    const r = verifyAuditFiles(write(set), opts);
    expect(r.problem).toMatchObject({ code: 'garbage_appended', line: 7 });
    expect(r.records).toBe(6);
    expect(r.files[0]?.lines).toBe(7);
  });

  it('an over-long line between two linked records is inserted', () => {
    const set = chain(6, 6);
    set[0]?.splice(3, 0, long('{"seq":3,'));
    expect(verifyAuditFiles(write(set), opts).problem).toMatchObject({ code: 'inserted_record', line: 4 });
  });

  it('an over-long record in place of one is modified, and says why', () => {
    const set = chain(6, 6);
    set[0]?.splice(2, 1, long('{"hash":"ab","seq":3,'));
    const p = verifyAuditFiles(write(set), opts).problem;
    expect(p).toMatchObject({ code: 'modified_record', line: 3, seq: 3 });
    expect(p?.message).toContain('5021 bytes');
  });

  it('an over-long unterminated last line is a torn tail with its real length', () => {
    const set = chain(6, 6);
    set[0]?.push(long('{"action":"'));
    const r = verifyAuditFiles(write(set, ''), opts);
    expect(r.ok).toBe(true);
    // No checkpoint was given: nothing vouches for where the log ended, and verify says so.
    expect(r.warnings).toMatchObject([{ code: 'torn_tail', line: 7, message: expect.stringContaining('(5011 bytes)') }, { code: 'no_checkpoint' }]);
  });
});

describe('writeJsonArray', () => {
  it('writes what JSON.stringify(items, null, 2) writes, in batches', () => {
    const cases: unknown[][] = [
      [],
      [{ a: 1 }],
      [{ a: [1, { b: 'x\ny' }], c: null, d: [] }, { e: {} }, 'str', 3],
      Array.from({ length: 3000 }, (_, i) => ({ callId: `c${i}`, actorChain: ['a', 'b'], note: 'z'.repeat(i % 40) })),
    ];
    for (const items of cases) {
      const chunks: string[] = [];
      writeJsonArray({ write: (s: string) => chunks.push(s) }, items);
      expect(chunks.join('')).toBe(`${JSON.stringify(items, null, 2)}\n`);
      if (items.length === 3000) expect(chunks.length).toBeGreaterThan(1);
    }
  });
});
