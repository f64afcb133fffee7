import { describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS_HASH, encodeRecord } from '../../src/audit/record-codec.js';
import { writeCheckpointFile } from '../../src/audit/checkpoint.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { verifyAuditFilesInMemory } from '../helpers/audit-verify-oracle.js';
import { int, rng, tempDir } from './audit-test-helpers.js';

const WORDS = ['read_file', 'ünïcode', '漢字', '🙂 emoji', 'evil\u202etxt', 'plain'];

/** A clean chained set as lines per file (oldest first), written with the real encoder. */
function cleanSet(rand: () => number): string[][] {
  const files: string[][] = [[]];
  let prev = GENESIS_HASH;
  const n = int(rand, 8, 40);
  for (let seq = 1; seq <= n; seq++) {
    const fields = { type: 'call.decision', callId: `c${seq}`, tool: WORDS[int(rand, 0, WORDS.length - 1)], action: rand() < 0.2 ? 'block' : 'allow', score: int(rand, 0, 100) };
    const { line, hash } = encodeRecord(fields, { seq, ts: new Date(Date.UTC(2026, 10, 22) + seq).toISOString(), prev });
    prev = hash;
    if ((files.at(-1) as string[]).length >= int(rand, 3, 12)) files.push([]);
    (files.at(-1) as string[]).push(line.trimEnd());
  }
  return files;
}

type Op = (set: string[][], rand: () => number) => void;
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[int(rand, 0, xs.length - 1)] as T;
const someFile = (set: string[][], rand: () => number): string[] => pick(rand, set);
const anyLine = (set: string[][], rand: () => number): string => pick(rand, set.flat()) ?? '';

/** Line-level tampering, each applied to random places of the whole set. */
const LINE_OPS: Record<string, Op> = {
  drop: (s, r) => void someFile(s, r).splice(int(r, 0, 12), 1),
  swap: (s, r) => {
    const a = someFile(s, r);
    const b = someFile(s, r);
    const i = int(r, 0, a.length - 1);
    const j = int(r, 0, b.length - 1);
    if (a.length && b.length) [a[i], b[j]] = [b[j] as string, a[i] as string];
  },
  duplicate: (s, r) => void someFile(s, r).splice(int(r, 0, 12), 0, anyLine(s, r)),
  forge: (s, r) => {
    const f = someFile(s, r);
    const i = int(r, 0, f.length - 1);
    const victim = JSON.parse(f[i] ?? anyLine(s, r) ?? '{"seq":1,"ts":"x","prev":"0"}') as { seq: number; ts: string; prev: string };
    const forged = encodeRecord({ type: 'call.decision', callId: 'forged', action: 'allow' }, victim).line.trimEnd();
    // Right before its victim it takes the victim's place in the chain; elsewhere it is a stray.
    if (r() < 0.5) f.splice(i, 0, forged);
    else someFile(s, r).splice(int(r, 0, 12), 0, forged);
  },
  recordLike: (s, r) => void someFile(s, r).splice(int(r, 0, 12), 0, `{"hash":"${'a'.repeat(64)}","prev":"${'b'.repeat(64)}","seq":${int(r, 1, 40)},"type":"x","v":1}`),
  garbage: (s, r) => void someFile(s, r).splice(int(r, 0, 12), 0, pick(r, ['', 'junk', '{"seq":3', '[1,2]', '{}', 'x"seq":7'])),
  rehash: (s, r) => {
    const f = someFile(s, r);
    const i = int(r, 0, f.length - 1);
    if (!f[i]) return;
    const { hash: _h, seq, ts, prev, ...rest } = JSON.parse(f[i] as string) as Record<string, unknown>;
    f[i] = encodeRecord({ ...rest, action: 'block' }, { seq: seq as number, ts: ts as string, prev: prev as string }).line.trimEnd();
  },
  crlf: (s, r) => {
    const f = someFile(s, r);
    const i = int(r, 0, f.length - 1);
    if (f[i] !== undefined) f[i] += '\r';
  },
  joinTwo: (s, r) => {
    const f = someFile(s, r);
    const i = int(r, 0, f.length - 2);
    if (f.length > 1) f.splice(i, 2, `${f[i]}${f[i + 1]}`);
  },
  empty: (s, r) => void someFile(s, r).splice(0),
  shiftBoundary: (s, r) => {
    const k = int(r, 0, s.length - 2);
    const moved = s[k]?.pop();
    if (moved !== undefined && s[k + 1]) s[k + 1]?.unshift(moved);
  },
};

/** Byte-level tampering of the written files (and the checkpoint). */
const FILE_OPS: Record<string, (files: string[], cp: string, rand: () => number) => string[]> = {
  flipByte: (files, _cp, r) => {
    const f = pick(r, files);
    const buf = readFileSync(f);
    const pos = int(r, 0, buf.length - 1);
    const flipped = (buf[pos] ?? 0) ^ (1 << int(r, 0, 7));
    if (buf.length && buf[pos] !== 0x0a && flipped !== 0x0a) (buf[pos] = flipped, writeFileSync(f, buf));
    return files;
  },
  truncate: (files, _cp, r) => {
    // Mostly the last file (a crash); sometimes an earlier one, so more lines follow the cut.
    const f = r() < 0.7 ? (files.at(-1) as string) : pick(r, files);
    const buf = readFileSync(f);
    writeFileSync(f, buf.subarray(0, int(r, 0, buf.length)));
    return files;
  },
  appendTorn: (files, _cp, r) => (appendFileSync(files.at(-1) as string, pick(r, ['{"action":"all', 'tail garbage', '{"seq":99', '\n', 'x\n'])), files),
  removeFile: (files, _cp, r) => {
    if (files.length < 2) return files;
    const f = pick(r, files);
    rmSync(f);
    return r() < 0.5 ? files.filter((x) => x !== f) : files;
  },
  dropCheckpoint: (files, cp) => (rmSync(cp, { force: true }), files),
  corruptCheckpoint: (files, cp) => (writeFileSync(cp, '{"v":1,'), files),
  // The checkpoint a running writer left a while ago: records after it are covered by the chain only.
  staleCheckpoint: (files, cp, r) => {
    const lines = existsSync(files[0] as string) ? readFileSync(files[0] as string, 'utf8').split('\n').filter(Boolean) : [];
    try {
      const { seq, hash, ts } = JSON.parse(pick(r, lines) ?? '') as { seq: number; hash: string; ts: string };
      writeCheckpointFile(cp, { v: 1, file: 'warden-audit.jsonl', seq, hash, ts }, false);
    } catch {
      // Not a record (tampered before): leave the checkpoint as it is.
    }
    return files;
  },
  checkpointAhead: (files, cp) => {
    if (existsSync(cp)) writeFileSync(cp, readFileSync(cp, 'utf8').replace(/"seq":(\d+)/, (_m, n: string) => `"seq":${Number(n) + 3}`));
    return files;
  },
};

function writeSet(dir: string, set: string[][]): { files: string[]; checkpoint: string } {
  const files = set.map((lines, i) => {
    const f = join(dir, i === set.length - 1 ? 'warden-audit.jsonl' : `warden-audit.${i + 1}.jsonl`);
    writeFileSync(f, lines.map((l) => `${l}\n`).join(''));
    return f;
  });
  return { files, checkpoint: join(dir, 'warden-audit.checkpoint.json') };
}

function writeCheckpoint(path: string, set: string[][]): void {
  const last = JSON.parse(set.flat().at(-1) as string) as { seq: number; hash: string; ts: string };
  writeCheckpointFile(path, { v: 1, file: 'warden-audit.jsonl', seq: last.seq, hash: last.hash, ts: last.ts }, false);
}

/** A tampered set for this seed (up to two line and two byte operations) and its checkpoint path. */
function tampered(seed: number): { dir: string; files: string[]; checkpoint: string; ops: string[] } {
  const rand = rng(seed);
  const set = cleanSet(rand);
  const dir = tempDir('warden-stream-');
  const lineOps = Object.keys(LINE_OPS);
  const fileOps = Object.keys(FILE_OPS);
  const ops: string[] = [];
  const clean = set.map((f) => [...f]);
  for (let k = int(rand, 0, 2); k > 0; k--) {
    const name = pick(rand, lineOps);
    ops.push(name);
    LINE_OPS[name]?.(set, rand);
  }
  let { files, checkpoint } = writeSet(dir, set);
  writeCheckpoint(checkpoint, clean);
  for (let k = int(rand, 0, 2); k > 0; k--) {
    const name = pick(rand, fileOps);
    ops.push(name);
    files = FILE_OPS[name]?.(files, checkpoint, rand) ?? files;
  }
  // Any order in: both verifiers sort by first seq.
  return { dir, files: [...files].sort(() => rand() - 0.5), checkpoint, ops };
}

describe('the streaming verifier reports exactly what the in-memory verifier reported', () => {
  const SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);
  const seen = new Set<string>();
  it.each(SEEDS)('tampered set, seed %i, chunks of 5, 64 and 1 MiB bytes', (seed) => {
    const { dir, files, checkpoint, ops } = tampered(seed);
    // As the CLI does: a checkpoint that is not there is not given (a removed one: no_checkpoint).
    const given = existsSync(checkpoint) ? { checkpoint } : {};
    const expected = verifyAuditFilesInMemory(files, given);
    for (const chunkBytes of [5, 64, 1 << 20]) {
      expect(verifyAuditFiles(files, { ...given, chunkBytes }), `ops ${ops.join(', ')}`).toEqual(expected);
    }
    seen.add(expected.problem?.code ?? 'ok');
    for (const w of expected.warnings) seen.add(w.code);
    rmSync(dir, { recursive: true });
  });

  /** Boundaries the random corpus rarely reaches; each returns the files whose last line is torn. */
  const EDGES: Record<string, (set: string[][]) => number[]> = {
    'torn line ending a middle file, one line after it': (set) => {
      set.splice(2);
      (set[1] as string[]).push((set[0]?.[0] ?? '').slice(0, 30));
      set.push(['not a record']);
      return [1];
    },
    'torn line followed by an empty last file': (set) => {
      set.splice(2);
      (set[1] as string[]).push('{"action":"al');
      set.push([]);
      return [1];
    },
    'bad line then a record that links but skips a seq': (set) => {
      const lines = set.flat();
      const prev = JSON.parse(lines[2] as string) as { seq: number; hash: string; ts: string };
      const skip = encodeRecord({ type: 'call.decision', callId: 'skip' }, { seq: prev.seq + 2, ts: prev.ts, prev: prev.hash }).line.trimEnd();
      set.splice(0, set.length, [...lines.slice(0, 3), 'junk', skip, ...lines.slice(3)]);
      return [];
    },
  };
  it('a torn tail cut inside a UTF-8 character is reported with its stored byte count', () => {
    const dir = tempDir('warden-stream-');
    const { files } = writeSet(dir, cleanSet(rng(11)));
    const last = files.at(-1) as string;
    // "é" is two bytes (c3 a9); the crash kept only the first. Decoded, the cut byte becomes
    // U+FFFD (three bytes), so counting the decoded text would say 17, not 15.
    const torn = Buffer.concat([Buffer.from('{"tool":"caf'), Buffer.from('é').subarray(0, 1), Buffer.from('"a')]);
    writeFileSync(last, Buffer.concat([readFileSync(last), torn]));
    const report = verifyAuditFiles(files, { chunkBytes: 5 });
    // A torn tail alone is a warning, not a problem: the records before it verify.
    expect(report.problem).toBeUndefined();
    const warning = report.warnings.find((w) => w.code === 'torn_tail');
    expect(warning?.message).toContain(`(${torn.length} bytes)`);
    expect(verifyAuditFilesInMemory(files)).toEqual(report);
    rmSync(dir, { recursive: true });
  });

  it.each(Object.keys(EDGES))('%s', (name) => {
    const dir = tempDir('warden-stream-');
    const set = cleanSet(rng(7));
    const torn = EDGES[name]?.(set) ?? [];
    const { files } = writeSet(dir, set);
    for (const i of torn) writeFileSync(files[i] as string, readFileSync(files[i] as string, 'utf8').replace(/\n$/, ''));
    const expected = verifyAuditFilesInMemory(files);
    for (const chunkBytes of [5, 1 << 20]) expect(verifyAuditFiles(files, { chunkBytes })).toEqual(expected);
    rmSync(dir, { recursive: true });
  });

  it('the corpus above produced every code a log can show without a key', () => {
    const codes = ['ok', 'uncovered_records', 'no_checkpoint', 'modified_record', 'deleted_record', 'inserted_record', 'reordered_records', 'duplicate_record', 'garbage_appended', 'missing_file', 'truncated_tail', 'torn_tail', 'bad_checkpoint', 'unreadable_file'];
    expect([...seen].sort()).toEqual(codes.sort());
  });
});
