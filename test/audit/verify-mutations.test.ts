import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath, logSet } from '../../src/audit/log-files.js';
import { verifyAuditFiles, type VerifyCode } from '../../src/audit/verify-audit.js';
import { encodeRecord } from '../../src/audit/record-codec.js';
import { readCheckpointFile, signCheckpoint, writeCheckpointFile } from '../../src/audit/checkpoint.js';
import { int, manualClock, rng, tempDir } from './audit-test-helpers.js';

const WORDS = ['read_file', 'write_file', 'ünïcode', 'evil\u202etxt', 'zero\u200bwidth', 'ctl\u0007', 'plain'];

/** Writes a clean log with the real sink; returns the files (oldest first) and the checkpoint. */
async function makeLog(seed: number, opts: { records?: number; maxFileBytes?: number } = {}): Promise<{ dir: string; files: string[]; checkpoint: string }> {
  const rand = rng(seed);
  const dir = tempDir();
  const file = join(dir, 'warden-audit.jsonl');
  const clock = manualClock();
  const sink = await openAuditSink({ file, maxFileBytes: opts.maxFileBytes ?? 1_000_000, checkpoint: { everyRecords: 7 } }, { clock: clock.now });
  const n = opts.records ?? int(rand, 20, 60);
  for (let i = 0; i < n; i++) {
    clock.advance(int(rand, 0, 50));
    sink.record({
      type: rand() < 0.5 ? 'call.decision' : 'call.result',
      callId: `c${seed}-${i}`,
      tool: WORDS[int(rand, 0, WORDS.length - 1)],
      action: rand() < 0.2 ? 'block' : 'allow',
      score: int(rand, 0, 100),
      args: { path: `/tmp/${int(rand, 0, 1e6)}`, n: rand() },
    });
  }
  await sink.close();
  return { dir, files: logSet(file), checkpoint: defaultCheckpointPath(file) };
}

type Lines = string[];
const split = (f: string): Lines => readFileSync(f, 'utf8').split('\n').slice(0, -1);
const join_ = (lines: Lines): string => lines.map((l) => `${l}\n`).join('');

function rewrite(file: string, edit: (lines: Lines) => Lines): void {
  writeFileSync(file, join_(edit(split(file))));
}

function pickFile(files: string[], rand: () => number, minLines = 1): string {
  const ok = files.filter((f) => split(f).length >= minLines);
  return ok[int(rand, 0, ok.length - 1)] as string;
}

function flipByte(file: string, rand: () => number): void {
  const buf = readFileSync(file);
  for (;;) {
    const pos = int(rand, 0, buf.length - 1);
    if (buf[pos] === 0x0a) continue;
    const flipped = (buf[pos] as number) ^ (1 << int(rand, 0, 6));
    if (flipped === 0x0a) continue;
    buf[pos] = flipped;
    writeFileSync(file, buf);
    return;
  }
}

function editAndRehash(file: string, lineIndex: number): void {
  rewrite(file, (lines) => {
    const r = JSON.parse(lines[lineIndex] as string) as Record<string, unknown>;
    const { hash: _h, seq, ts, prev, ...rest } = r;
    rest.action = rest.action === 'block' ? 'allow' : 'block';
    lines[lineIndex] = encodeRecord(rest, { seq: seq as number, ts: ts as string, prev: prev as string }).line.trimEnd();
    return lines;
  });
}

const MUTATIONS: Record<string, { code: VerifyCode; apply: (files: string[], rand: () => number) => string[] }> = {
  'flip a byte': { code: 'modified_record', apply: (files, rand) => (flipByte(pickFile(files, rand), rand), files) },
  'drop a line': {
    code: 'deleted_record',
    apply: (files, rand) => {
      const f = pickFile(files, rand, 2);
      const isLastFile = f === files.at(-1);
      rewrite(f, (l) => (l.splice(int(rand, 0, l.length - (isLastFile ? 2 : 1)), 1), l));
      return files;
    },
  },
  'swap two lines': {
    code: 'reordered_records',
    apply: (files, rand) => {
      rewrite(pickFile(files, rand, 2), (l) => {
        const i = int(rand, 0, l.length - 2);
        const j = int(rand, i + 1, l.length - 1);
        [l[i], l[j]] = [l[j] as string, l[i] as string];
        return l;
      });
      return files;
    },
  },
  'duplicate a line': {
    code: 'duplicate_record',
    apply: (files, rand) => {
      rewrite(pickFile(files, rand), (l) => (l.splice(int(rand, 0, l.length), 0, l[int(rand, 0, l.length - 1)] as string), l));
      return files;
    },
  },
  truncate: {
    code: 'truncated_tail',
    apply: (files, rand) => {
      const f = files.at(-1) as string;
      const buf = readFileSync(f);
      const lastNl = buf.subarray(0, buf.length - 1).lastIndexOf(0x0a);
      writeFileSync(f, buf.subarray(0, int(rand, 0, lastNl + 1)));
      return files;
    },
  },
  'edit a field and re-hash that record only': {
    code: 'modified_record',
    apply: (files, rand) => {
      const f = pickFile(files, rand);
      editAndRehash(f, int(rand, 0, split(f).length - 1));
      return files;
    },
  },
  'append garbage': {
    code: 'garbage_appended',
    apply: (files, rand) => {
      const f = files.at(-1) as string;
      const junk = Array.from({ length: int(rand, 1, 80) }, () => String.fromCharCode(int(rand, 0x20, 0x7e))).join('');
      writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from(rand() < 0.5 ? `${junk}\n` : `x${junk}`)]));
      return files;
    },
  },
  'insert a forged record that claims a slot': {
    code: 'inserted_record',
    apply: (files, rand) => {
      rewrite(pickFile(files, rand), (l) => {
        const i = int(rand, 0, l.length - 1);
        const victim = JSON.parse(l[i] as string) as { seq: number; ts: string; prev: string };
        const forged = encodeRecord({ type: 'call.decision', callId: 'forged', action: 'allow' }, victim).line.trimEnd();
        l.splice(i, 0, forged);
        return l;
      });
      return files;
    },
  },
  'insert a record-like line between two records': {
    code: 'inserted_record',
    apply: (files, rand) => {
      rewrite(pickFile(files, rand, 2), (l) => {
        const i = int(rand, 1, l.length - 1);
        l.splice(i, 0, `{"hash":"${'a'.repeat(64)}","prev":"${'b'.repeat(64)}","seq":${int(rand, 1, 999)},"type":"call.decision","v":1}`);
        return l;
      });
      return files;
    },
  },
};

async function mutated(seed: number, name: string): Promise<{ files: string[]; checkpoint: string }> {
  const log = await makeLog(seed, { maxFileBytes: 2500 });
  const rand = rng(seed * 7919 + name.length);
  return { files: MUTATIONS[name]!.apply(log.files, rand), checkpoint: log.checkpoint };
}

const SEEDS = Array.from({ length: 25 }, (_, i) => i + 1);

describe('verifyAuditFiles on clean logs', () => {
  it.each(SEEDS)('seed %i with rotation: no problem, no warning, files in any order', async (seed) => {
    const log = await makeLog(seed, { maxFileBytes: 2500 });
    expect(log.files.length).toBeGreaterThan(2);
    const shuffled = [...log.files].sort(() => rng(seed)() - 0.5).reverse();
    const report = verifyAuditFiles(shuffled, { checkpoint: log.checkpoint });
    expect(report.problem).toBeUndefined();
    expect(report.warnings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.records).toBe(report.lastSeq);
    expect(report.checkpoint.status).toBe('ok');
    rmSync(log.dir, { recursive: true });
  });
});

describe('verifyAuditFiles detects every mutation with its code', () => {
  for (const [name, m] of Object.entries(MUTATIONS)) {
    it.each(SEEDS)(`${name} → ${m.code} (seed %i)`, async (seed) => {
      const { files, checkpoint } = await mutated(seed, name);
      const report = verifyAuditFiles(files, { checkpoint });
      expect(report.ok).toBe(false);
      expect(report.problem?.code).toBe(m.code);
    });
  }

  it.each(SEEDS)('delete the middle rotated file → missing_file (seed %i)', async (seed) => {
    const log = await makeLog(seed, { maxFileBytes: 2500, records: 60 });
    const middle = log.files[int(rng(seed), 1, log.files.length - 2)] as string;
    rmSync(middle);
    const report = verifyAuditFiles(log.files.filter((f) => f !== middle), { checkpoint: log.checkpoint });
    expect(report.problem?.code).toBe('missing_file');
    expect(basename(report.problem?.file ?? '')).not.toBe(basename(middle));
  });

  it('reports the exact line and seq of a modified record', async () => {
    const log = await makeLog(3, { records: 30 });
    const f = log.files[0] as string;
    rewrite(f, (l) => ((l[9] = (l[9] as string).replace('"score":', '"score":1')), l));
    const report = verifyAuditFiles([f]);
    expect(report.problem).toMatchObject({ code: 'modified_record', line: 10, seq: 10 });
  });

  it('detects bytes swapped for an invalid UTF-8 sequence that decodes to the same text', async () => {
    // A record holding U+FFFD (EF BF BD): F0 90 80 is a cut 4-byte sequence that decodes to one
    // U+FFFD too, so the decoded line, its hash and its canonical form are unchanged; the bytes
    // are not, and the writer never writes invalid UTF-8.
    const dir = tempDir();
    const file = join(dir, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file });
    sink.record({ type: 'warden.stop', reason: 'x\uFFFDy' });
    sink.record({ type: 'warden.stop', reason: 'z' });
    await sink.close();
    const checkpoint = defaultCheckpointPath(file);
    expect(verifyAuditFiles([file], { checkpoint }).ok).toBe(true);
    const b = readFileSync(file);
    const at = b.indexOf(Buffer.from([0xef, 0xbf, 0xbd]));
    const forged = Buffer.concat([b.subarray(0, at), Buffer.from([0xf0, 0x90, 0x80]), b.subarray(at + 3)]);
    expect(forged.toString('utf8')).toBe(b.toString('utf8'));
    writeFileSync(file, forged);
    expect(verifyAuditFiles([file], { checkpoint }).problem).toMatchObject({ code: 'modified_record', line: 1, seq: 1 });
    expect(verifyAuditFiles([file], { checkpoint, chunkBytes: 7 }).problem).toMatchObject({ code: 'modified_record', line: 1, seq: 1 });
  });

  it('a torn last line alone is a warning, not a failure', async () => {
    const log = await makeLog(4, { records: 10 });
    const f = log.files.at(-1) as string;
    writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from('{"action":"all')]));
    const report = verifyAuditFiles([f], { checkpoint: log.checkpoint });
    expect(report.ok).toBe(true);
    expect(report.warnings.map((w) => w.code)).toEqual(['torn_tail']);
  });

  it('a torn last line contradicted by the checkpoint is a truncated tail', async () => {
    const log = await makeLog(5, { records: 10 });
    const f = log.files.at(-1) as string;
    const buf = readFileSync(f);
    writeFileSync(f, buf.subarray(0, buf.length - 20));
    expect(verifyAuditFiles([f], { checkpoint: log.checkpoint }).problem?.code).toBe('truncated_tail');
  });
});

describe('signed checkpoints', () => {
  it.each(SEEDS.slice(0, 5))('checkpoint signed with another key → bad_signature (seed %i)', async (seed) => {
    const log = await makeLog(seed);
    const ours = generateKeyPairSync('ed25519');
    const theirs = generateKeyPairSync('ed25519');
    const cp = readCheckpointFile(log.checkpoint);
    writeCheckpointFile(log.checkpoint, signCheckpoint(cp, theirs.privateKey), false);
    expect(verifyAuditFiles(log.files, { checkpoint: log.checkpoint, publicKey: ours.publicKey }).problem?.code).toBe('bad_signature');
    writeCheckpointFile(log.checkpoint, signCheckpoint(cp, ours.privateKey), false);
    const good = verifyAuditFiles(log.files, { checkpoint: log.checkpoint, publicKey: ours.publicKey });
    expect(good.ok).toBe(true);
    expect(good.checkpoint.status).toBe('signed');
  });

  it('reports the key that checked the signature, not a keyId relabelled in the checkpoint file', async () => {
    // keyId is not covered by the signature: whoever can write the checkpoint can change it.
    const log = await makeLog(11);
    const ours = generateKeyPairSync('ed25519');
    const signed = signCheckpoint(readCheckpointFile(log.checkpoint), ours.privateKey);
    writeCheckpointFile(log.checkpoint, { ...signed, keyId: 'ffffffffffffffff' }, false);
    const report = verifyAuditFiles(log.files, { checkpoint: log.checkpoint, publicKey: ours.publicKey });
    expect(report.checkpoint.status).toBe('signed');
    expect(report.checkpoint.keyId).toBe(signed.keyId);
  });

  it('rejects an unsigned checkpoint when a public key is required', async () => {
    const log = await makeLog(9);
    const key = generateKeyPairSync('ed25519');
    expect(verifyAuditFiles(log.files, { checkpoint: log.checkpoint, publicKey: key.publicKey }).problem?.code).toBe('unsigned_checkpoint');
  });

  it('rejects a signed checkpoint whose seq was raised after signing', async () => {
    const log = await makeLog(10);
    const key = generateKeyPairSync('ed25519');
    const signed = signCheckpoint(readCheckpointFile(log.checkpoint), key.privateKey);
    writeCheckpointFile(log.checkpoint, { ...signed, seq: signed.seq - 1 }, false);
    expect(verifyAuditFiles(log.files, { checkpoint: log.checkpoint, publicKey: key.publicKey }).problem?.code).toBe('bad_signature');
  });

  it('copies of a file verify the same (no hidden state)', async () => {
    const log = await makeLog(11);
    const copy = join(log.dir, 'copy.jsonl');
    copyFileSync(log.files[0] as string, copy);
    expect(verifyAuditFiles([copy]).ok).toBe(true);
  });
});
