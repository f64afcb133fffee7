import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { readRecords } from '../../src/audit/read-records.js';
import { encodeRecord } from '../../src/audit/record-codec.js';
import { captureLogger, tempDir } from './audit-test-helpers.js';

/**
 * Start-up refuses to continue a log whose record at the checkpoint's seq was edited: the next
 * signed checkpoint would vouch for the edit. These are the ways around that check for someone
 * who can write the log's folder while warden is stopped but has no signing key: take the
 * checkpoint away, break it, forge an unsigned one, or put back an older (signed, closed) one.
 * Each leaves a trace in the chain and a verify warning instead of a silent laundering.
 */
const decision = (i: number): { type: 'call.decision'; callId: string; action: string } => ({ type: 'call.decision', callId: `c${i}`, action: 'allow' });

interface Setup {
  readonly file: string;
  readonly cpFile: string;
  readonly keyFile: string;
  readonly publicKey: KeyObject;
}

function setup(): Setup {
  const dir = tempDir();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'k.key');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const file = join(dir, 'warden-audit.jsonl');
  return { file, cpFile: defaultCheckpointPath(file), keyFile, publicKey };
}

async function writeRecords(s: Setup, from: number, count: number): Promise<void> {
  const sink = await openAuditSink({ file: s.file, checkpoint: { signingKey: s.keyFile } });
  for (let i = from; i < from + count; i++) sink.record(decision(i));
  await sink.close();
}

/** The attacker rewrites records from `seq` on (same seqs) and re-hashes the rest; returns the new last hash. */
function editFrom(file: string, seq: number): string {
  const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  let prev = (JSON.parse(lines[seq - 2] as string) as { hash: string }).hash;
  const out = lines.slice(0, seq - 1).map((l) => `${l}\n`);
  for (const l of lines.slice(seq - 1)) {
    const { v: _v, seq: n, ts, prev: _p, hash: _h, ...fields } = JSON.parse(l) as Record<string, unknown> & { seq: number; ts: string };
    const e = encodeRecord({ ...fields, action: 'block' }, { seq: n, ts, prev });
    out.push(e.line);
    prev = e.hash;
  }
  writeFileSync(file, out.join(''));
  return prev;
}

/** Warden restarts on the log, writes a record and stops cleanly; verify with the public key. */
async function restartAndVerify(s: Setup): Promise<ReturnType<typeof verifyAuditFiles>> {
  const sink = await openAuditSink({ file: s.file, checkpoint: { signingKey: s.keyFile } }, { logger: captureLogger().logger });
  sink.record(decision(99));
  await sink.close();
  return verifyAuditFiles([s.file], { checkpoint: s.cpFile, publicKey: s.publicKey });
}

function expectUnvouched(report: ReturnType<typeof verifyAuditFiles>, file: string, reason: string): void {
  const recovered = readRecords([file]).find((r) => r.type === 'audit.recovered');
  expect(recovered?.reasons).toContain(reason);
  expect(report.warnings).toContainEqual(expect.objectContaining({ code: 'unvouched_restart', seq: recovered?.seq }));
}

describe('a restart on an edited log cannot be laundered by tampering with the checkpoint', () => {
  it('a deleted checkpoint is recorded (checkpoint_missing) and verify warns', async () => {
    const s = setup();
    await writeRecords(s, 0, 6);
    editFrom(s.file, 4);
    rmSync(s.cpFile);
    expectUnvouched(await restartAndVerify(s), s.file, 'checkpoint_missing');
  });

  it('an unreadable checkpoint is recorded (checkpoint_unreadable) and verify warns', async () => {
    const s = setup();
    await writeRecords(s, 0, 6);
    editFrom(s.file, 4);
    writeFileSync(s.cpFile, 'not a checkpoint');
    expectUnvouched(await restartAndVerify(s), s.file, 'checkpoint_unreadable');
  });

  it('a forged unsigned checkpoint matching the edit is recorded (checkpoint_unsigned) and verify warns', async () => {
    const s = setup();
    await writeRecords(s, 0, 6);
    const hash = editFrom(s.file, 4);
    writeFileSync(s.cpFile, `${JSON.stringify({ v: 1, file: 'warden-audit.jsonl', seq: 6, hash, ts: new Date().toISOString(), closed: true })}\n`);
    expectUnvouched(await restartAndVerify(s), s.file, 'checkpoint_unsigned');
  });

  it('an older signed checkpoint put back (rollback) is recorded (checkpoint_behind) and verify warns', async () => {
    const s = setup();
    await writeRecords(s, 0, 3);
    const saved = `${s.cpFile}.saved`;
    copyFileSync(s.cpFile, saved);
    await writeRecords(s, 3, 3);
    editFrom(s.file, 5);
    copyFileSync(saved, s.cpFile);
    const report = await restartAndVerify(s);
    expectUnvouched(report, s.file, 'checkpoint_behind');
    expect(report.ok).toBe(true); // a warning: --strict fails on it
  });

  it('an untouched log restarts without the warning (clean stop, crash, first start)', async () => {
    const s = setup();
    await writeRecords(s, 0, 3);
    await writeRecords(s, 3, 3);
    const crashed = await openAuditSink({ file: s.file, checkpoint: { signingKey: s.keyFile } });
    crashed.record(decision(7)); // no close(): like SIGKILL
    const report = await restartAndVerify(s);
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([]);
    expect(readRecords([s.file]).filter((r) => r.type === 'audit.recovered').map((r) => r.reasons)).toEqual([['unclean_shutdown']]);
  });
});

/**
 * With `signingKey`, a checkpoint not signed by it is no evidence either way: someone who can write
 * the checkpoint's file but not the log (nor has the key) wrote it. It used to drive start-up all
 * the same: a forged hash at a seq of the log stopped warden from starting (audit_corrupt, every
 * call refused until an operator stepped in), and a forged seq beyond the log's end was written
 * into the chain as `checkpoint_ahead`, which verify reports as `truncated_tail` from then on,
 * even with the public key, for a log nothing was cut from. The restart is still recorded as
 * unvouched (`checkpoint_unsigned`), as for a missing checkpoint.
 */
describe('a checkpoint not signed by the signing key cannot stop warden or accuse an intact log', () => {
  const forge = (s: Setup, seq: number, hash: string): void =>
    writeFileSync(s.cpFile, `${JSON.stringify({ v: 1, file: 'warden-audit.jsonl', seq, hash, ts: new Date().toISOString(), closed: true })}\n`);

  it('a forged unsigned checkpoint with a wrong hash does not stop warden from starting', async () => {
    const s = setup();
    await writeRecords(s, 0, 6);
    forge(s, 4, 'f'.repeat(64));
    const report = await restartAndVerify(s);
    expectUnvouched(report, s.file, 'checkpoint_unsigned');
    expect(report.ok).toBe(true);
  });

  it('a forged unsigned checkpoint beyond the log does not plant truncated_tail in the chain', async () => {
    const s = setup();
    await writeRecords(s, 0, 6);
    forge(s, 1000, 'f'.repeat(64));
    const report = await restartAndVerify(s);
    expectUnvouched(report, s.file, 'checkpoint_unsigned');
    const recovered = readRecords([s.file]).find((r) => r.type === 'audit.recovered');
    expect(recovered?.reasons).not.toContain('checkpoint_ahead');
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});
