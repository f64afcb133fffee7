import { spawnSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpointFile } from '../../src/audit/checkpoint.js';
import { parseAnchor } from '../../src/audit/cli-verify.js';
import { GENESIS_HASH, encodeRecord } from '../../src/audit/record-codec.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';

/**
 * Retention: old rotated files are archived or deleted, and what is left is verified from an
 * anchor (the seq and hash of the last removed record, taken before removal). The anchor must
 * not become a way around the chain: records missing after it, a head that does not link to it
 * and a checkpoint older than it are all problems.
 */
interface Chain {
  readonly dir: string;
  /** Files oldest first, 10 records each (seq 1-10, 11-20, 21-30). */
  readonly files: string[];
  readonly hashes: string[]; // hashes[seq]
  readonly lines: string[][];
}

function writeChain(prefix: string): Chain {
  const dir = tempDir(prefix);
  const hashes = [GENESIS_HASH];
  const lines: string[][] = [[], [], []];
  for (let seq = 1; seq <= 30; seq++) {
    const { line, hash } = encodeRecord({ type: 'call.decision', callId: `c${seq}`, action: 'allow' }, { seq, ts: new Date(Date.UTC(2026, 10, 22) + seq).toISOString(), prev: hashes[seq - 1]! });
    hashes.push(hash);
    lines[Math.floor((seq - 1) / 10)]!.push(line.trimEnd());
  }
  const files = ['warden-audit.1.jsonl', 'warden-audit.2.jsonl', 'warden-audit.jsonl'].map((f) => join(dir, f));
  files.forEach((f, i) => writeFileSync(f, `${lines[i]!.join('\n')}\n`));
  return { dir, files, hashes, lines };
}

function checkpointAt(c: Chain, seq: number): string {
  const path = join(c.dir, 'warden-audit.checkpoint.json');
  writeCheckpointFile(path, { v: 1, file: 'warden-audit.jsonl', seq, hash: c.hashes[seq]!, ts: '2026-11-22T00:00:00.000Z' }, false);
  return path;
}

describe('audit verify from an anchor (retention)', () => {
  it('verifies what is left after the oldest file was removed, from the anchor its own verify gave', () => {
    const c = writeChain('warden-anchor-');
    const removed = verifyAuditFiles([c.files[0]!]);
    expect(removed).toMatchObject({ ok: true, lastSeq: 10, lastHash: c.hashes[10] });
    const anchor = { seq: removed.lastSeq, hash: removed.lastHash };
    const kept = verifyAuditFiles(c.files.slice(1), { anchor, checkpoint: checkpointAt(c, 30) });
    expect(kept).toMatchObject({ ok: true, records: 20, lastSeq: 30, lastHash: c.hashes[30], anchor, uncoveredRecords: 0 });
    expect(kept.warnings).toEqual([]);
  });

  it('without an anchor the same set fails, and the message says how to verify a pruned set', () => {
    const c = writeChain('warden-anchor-');
    const report = verifyAuditFiles(c.files.slice(1));
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ code: 'missing_file', seq: 11 });
    expect(report.problem!.message).toContain('--anchor SEQ:HASH');
  });

  it('deleting more than was archived: records missing after the anchor are reported', () => {
    const c = writeChain('warden-anchor-');
    const anchor = { seq: 10, hash: c.hashes[10]! };
    const report = verifyAuditFiles([c.files[2]!], { anchor });
    expect(report.problem).toMatchObject({ code: 'deleted_record', seq: 11 });
  });

  it('a forged head: a first record that does not link to the anchor is a modified record', () => {
    const c = writeChain('warden-anchor-');
    // The attacker rewrites the kept head from another start and re-chains to the end.
    let prev = 'f'.repeat(64);
    const forged: string[] = [];
    for (let seq = 11; seq <= 20; seq++) {
      const { line, hash } = encodeRecord({ type: 'call.decision', callId: `x${seq}`, action: 'allow' }, { seq, ts: '2026-11-22T00:00:00.000Z', prev });
      forged.push(line.trimEnd());
      prev = hash;
    }
    writeFileSync(c.files[1]!, `${forged.join('\n')}\n`);
    const report = verifyAuditFiles([c.files[1]!], { anchor: { seq: 10, hash: c.hashes[10]! } });
    expect(report.problem).toMatchObject({ code: 'modified_record', seq: 11 });
    expect(report.problem!.message).toContain('anchor');
  });

  it('an anchor that is not the removed record fails at the first kept record', () => {
    const c = writeChain('warden-anchor-');
    const report = verifyAuditFiles(c.files.slice(1), { anchor: { seq: 10, hash: c.hashes[9]! } });
    expect(report.problem).toMatchObject({ code: 'modified_record', seq: 11 });
  });

  it('rolled-back checkpoint: one older than the anchor cannot vouch for the set and fails', () => {
    const c = writeChain('warden-anchor-');
    const report = verifyAuditFiles(c.files.slice(1), { anchor: { seq: 10, hash: c.hashes[10]! }, checkpoint: checkpointAt(c, 5) });
    expect(report.problem).toMatchObject({ code: 'bad_checkpoint', seq: 5 });
  });

  it('a checkpoint at the anchor is checked against the anchor hash, and the rest is uncovered', () => {
    const c = writeChain('warden-anchor-');
    const cp = checkpointAt(c, 10);
    const good = verifyAuditFiles(c.files.slice(1), { anchor: { seq: 10, hash: c.hashes[10]! }, checkpoint: cp });
    expect(good).toMatchObject({ ok: true, uncoveredRecords: 20 });
    expect(good.warnings.map((w) => w.code)).toEqual(['uncovered_records']);
    expect(good.warnings[0]).toMatchObject({ seq: 11, file: c.files[1] });
  });

  it('a checkpoint at the anchor seq with another hash disagrees with the anchor: modified record', () => {
    const c = writeChain('warden-anchor-');
    const path = join(c.dir, 'warden-audit.checkpoint.json');
    writeCheckpointFile(path, { v: 1, file: 'warden-audit.jsonl', seq: 10, hash: c.hashes[9]!, ts: '2026-11-22T00:00:00.000Z' }, false);
    const report = verifyAuditFiles(c.files.slice(1), { anchor: { seq: 10, hash: c.hashes[10]! }, checkpoint: path });
    expect(report.problem).toMatchObject({ code: 'modified_record', seq: 10 });
  });

  it('a truncated tail is still caught from an anchor', () => {
    const c = writeChain('warden-anchor-');
    const cp = checkpointAt(c, 30);
    writeFileSync(c.files[2]!, `${c.lines[2]!.slice(0, 5).join('\n')}\n`);
    const report = verifyAuditFiles(c.files.slice(1), { anchor: { seq: 10, hash: c.hashes[10]! }, checkpoint: cp });
    expect(report.problem).toMatchObject({ code: 'truncated_tail' });
    expect(report.lastSeq).toBe(25);
    expect(report.records).toBe(15);
  });
});

describe('warden audit verify --anchor', () => {
  beforeAll(() => requireBuild());
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'audit', 'verify', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('parses SEQ:HASH and refuses anything else', () => {
    const hash = 'a'.repeat(64);
    expect(parseAnchor(`10:${hash}`)).toEqual({ seq: 10, hash });
    for (const bad of [`0:${hash}`, `-1:${hash}`, `10:${hash.slice(1)}`, `10:${'A'.repeat(64)}`, `x:${hash}`, hash, `10:${hash}:1`, `1e3:${hash}`]) {
      expect(parseAnchor(bad), bad).toBeNull();
    }
  });

  it('verifies a pruned set from the anchor that verify --json printed for the removed file', () => {
    const c = writeChain('warden-anchor-cli-');
    const removed = JSON.parse(cli([c.files[0]!, '--json']).stdout) as { lastSeq: number; lastHash: string };
    const r = cli([...c.files.slice(1), '--anchor', `${removed.lastSeq}:${removed.lastHash}`, '--checkpoint', checkpointAt(c, 30)]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('20 records, seq 11..30 after the anchor (seq 10)');
  });

  it('verifying the rotated files about to be removed passes although the live log\'s checkpoint lies beyond them', () => {
    // The README's retention step: verify the oldest files, keep their lastSeq:lastHash, remove them.
    const c = writeChain('warden-anchor-cli-');
    checkpointAt(c, 30);
    const r = cli([c.files[0]!, c.files[1]!, '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; lastSeq: number; problem?: unknown; checkpoint: { status: string } };
    expect(r.status).toBe(0);
    expect(report).toMatchObject({ ok: true, lastSeq: 20, checkpoint: { status: 'none' } });
    expect(report.problem).toBeUndefined();
  });

  it('verifying the one rotated file about to be removed passes too: the live log\'s checkpoint is not guessed for a rotated file named alone', () => {
    // Archiving one file at a time: as for several, the live checkpoint lies beyond it. It failed
    // with truncated_tail (exit 1), so a retention script that checks the exit code kept it forever.
    const c = writeChain('warden-anchor-cli-');
    checkpointAt(c, 30);
    const r = cli([c.files[0]!, '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; lastSeq: number; problem?: unknown; checkpoint: { status: string }; warnings: { code: string }[] };
    expect(r.status).toBe(0);
    expect(report).toMatchObject({ ok: true, lastSeq: 10, checkpoint: { status: 'none' } });
    expect(report.warnings.map((w) => w.code)).toEqual(['no_checkpoint']);
    // An explicit --checkpoint is still used as given.
    expect(cli([c.files[0]!, '--checkpoint', join(c.dir, 'warden-audit.checkpoint.json')]).stdout).toContain('truncated_tail');
  });

  it('verify --file <the one rotated file> is not failed against the live log\'s checkpoint either: --file names a file as the positional form does', () => {
    // The retention step written with --file (or $WARDEN_AUDIT_FILE) took the live checkpoint and
    // failed a clean file with truncated_tail (exit 1), as the positional form did before.
    const c = writeChain('warden-anchor-cli-');
    checkpointAt(c, 30);
    const r = cli(['--file', c.files[0]!, '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; lastSeq: number; files: { file: string }[]; checkpoint: { status: string }; warnings: { code: string }[] };
    expect(r.status).toBe(0);
    expect(report).toMatchObject({ ok: true, lastSeq: 10, files: [{ file: c.files[0] }], checkpoint: { status: 'none' } });
    expect(report.warnings.map((w) => w.code)).toEqual(['no_checkpoint']);
    const env = spawnSync(process.execPath, [CLI, 'audit', 'verify'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', WARDEN_AUDIT_FILE: c.files[0]! } });
    expect(env.status, env.stdout).toBe(0);
    // An explicit --checkpoint is still used as given; the active file still verifies its set.
    expect(cli(['--file', c.files[0]!, '--checkpoint', join(c.dir, 'warden-audit.checkpoint.json')]).stdout).toContain('truncated_tail');
    expect(cli(['--file', c.files[2]!]).stdout).toContain('30 records, seq 1..30 in 3 file(s); checkpoint seq 30');
  });

  it('the live log\'s checkpoint still applies by default when the active file is missing: a deleted active file is a truncated tail', () => {
    const c = writeChain('warden-anchor-cli-');
    checkpointAt(c, 30);
    const active = c.files[2]!;
    writeFileSync(active, '');
    const named = cli([c.files[0]!, c.files[1]!, active]);
    expect(named.status).toBe(1);
    expect(named.stdout).toContain('truncated_tail');
    unlinkSync(active);
    for (const args of [[active], ['--file', active]]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout, args.join(' ')).toContain('truncated_tail');
    }
  });

  it('a malformed anchor is a usage error naming the flag (exit 2)', () => {
    const c = writeChain('warden-anchor-cli-');
    const r = cli([c.files[2]!, '--anchor', '10:nothex']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--anchor must be SEQ:HASH');
  });

  it('a pruned set without the anchor fails (exit 1) and points at --anchor', () => {
    const c = writeChain('warden-anchor-cli-');
    const r = cli(c.files.slice(1));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('--anchor');
  });
});
