import { existsSync, linkSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath, logSet, rotatedName } from '../../src/audit/log-files.js';
import { moveToRotatedName } from '../../src/audit/rotate-file.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { readRecords } from '../../src/audit/read-records.js';
import { captureLogger, tempDir } from './audit-test-helpers.js';

/**
 * Rotation moves the full active file to `<base>.N.jsonl`. rename(2) replaces its target, so a
 * file created at the chosen name after the sink chose it (another warden, a restore, an
 * operator) would be destroyed with its records; the move links (never replaces) and then
 * unlinks the old name. A crash between the two leaves one file under two names, which the
 * next start completes and which readers see once.
 */
const FOREIGN = '{"not":"warden","records":"of someone else"}\n';
const decision = (i: number): { type: 'call.decision'; callId: string; action: string; pad: string } => ({
  type: 'call.decision',
  callId: `c${i}`,
  action: 'allow',
  pad: 'x'.repeat(100),
});

describe('rotation never overwrites a file created at the rotated name', () => {
  it('a file created at the chosen name after it was chosen keeps its bytes; the log moves to the next free name', () => {
    const dir = tempDir();
    const active = join(dir, 'warden-audit.jsonl');
    writeFileSync(active, 'active records\n');
    // Chosen from a listing that did not have it yet: the concurrent creator won the race.
    const taken = rotatedName(active, 1);
    writeFileSync(taken, FOREIGN);
    const moved = moveToRotatedName(active, 1);
    expect(moved).toBe(rotatedName(active, 2));
    expect(readFileSync(taken, 'utf8')).toBe(FOREIGN);
    expect(readFileSync(moved, 'utf8')).toBe('active records\n');
    expect(existsSync(active)).toBe(false);
  });

  it('a symlink planted at the chosen name is neither followed nor replaced', () => {
    const dir = tempDir();
    const active = join(dir, 'warden-audit.jsonl');
    writeFileSync(active, 'active records\n');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, FOREIGN);
    symlinkSync(victim, rotatedName(active, 1));
    expect(moveToRotatedName(active, 1)).toBe(rotatedName(active, 2));
    expect(readFileSync(victim, 'utf8')).toBe(FOREIGN);
    expect(readlinkSync(rotatedName(active, 1))).toBe(victim);
  });

  it('a file planted at the next rotated name while warden runs is left unchanged and the chain continues past it', async () => {
    const dir = tempDir();
    const file = join(dir, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger });
    for (let i = 0; i < 10; i++) sink.record(decision(i));
    // The name the next rotation would pick from a listing.
    const planted = rotatedName(file, logSet(file).length);
    writeFileSync(planted, FOREIGN);
    for (let i = 10; i < 60; i++) sink.record(decision(i));
    await sink.close();
    expect(readFileSync(planted, 'utf8')).toBe(FOREIGN);
    const ours = logSet(file).filter((f) => f !== planted);
    expect(readRecords(ours).map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(verifyAuditFiles(ours, { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });
});

describe('a crash between the link and the unlink of a rotation', () => {
  /** The log as a crash right after link(2) leaves it: the active file is also the newest rotated file. */
  async function crashedMidRotation(): Promise<{ file: string; twin: string }> {
    // Several rotations before it: the twin is the newest of a set, not the only rotated file.
    const dir = tempDir();
    const file = join(dir, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger });
    for (let i = 0; i < 20; i++) sink.record(decision(i));
    await sink.close();
    const rotated = logSet(file).length - 1;
    const twin = rotatedName(file, rotated + 1);
    linkSync(file, twin);
    return { file, twin };
  }

  it('readers and verify see the records once, under the rotated name', async () => {
    const { file, twin } = await crashedMidRotation();
    expect(logSet(file).at(-1)).toBe(twin);
    expect(logSet(file)).not.toContain(file);
    const report = verifyAuditFiles(logSet(file), { checkpoint: defaultCheckpointPath(file) });
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(readRecords(logSet(file)).map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('the next start completes the rotation: nothing duplicated, nothing lost, the rotated file unchanged, verify passes', async () => {
    const { file, twin } = await crashedMidRotation();
    const before = readFileSync(twin);
    const sink = await openAuditSink({ file, maxFileBytes: 2048 }, { logger: captureLogger().logger });
    sink.record(decision(20));
    await sink.close();
    expect(readFileSync(twin).equals(before)).toBe(true);
    expect(statSync(twin).nlink).toBe(1);
    const records = readRecords(logSet(file));
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    const note = records[20] as unknown as { type: string; reasons: string[]; rotationFinished: string };
    expect(note.type).toBe('audit.recovered');
    expect(note.reasons).toContain('rotation_interrupted');
    expect(note.rotationFinished).toBe(basename(twin));
    expect(verifyAuditFiles(logSet(file), { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });
});
