import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import type { AuditConfigInput } from '../../src/audit/audit-config.js';
import { defaultCheckpointPath } from '../../src/audit/log-files.js';
import { readCheckpointFile } from '../../src/audit/checkpoint.js';
import { encodeRecord, GENESIS_HASH } from '../../src/audit/record-codec.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { manualClock, tempDir } from './audit-test-helpers.js';

// Only the checkpoint's setTimeout is faked; the sink's file check (setInterval) keeps real time.
const fakeTimeouts = (): void => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
const decision = (i: number, action = 'allow'): Record<string, unknown> & { type: 'call.decision' } => ({ type: 'call.decision', callId: `c${i}`, action, enforced: action });

afterEach(() => {
  vi.useRealTimers();
});

/**
 * Counts the checkpoints the sink computes: the periodic ones are written in the background, so
 * the synchronous checkpoint() is not the one to count. Private, but the one place all go through.
 */
function checkpointsComputed(sink: object): ReturnType<typeof vi.fn> {
  return vi.spyOn(sink as { checkpointNow: (closed: boolean) => unknown }, 'checkpointNow') as unknown as ReturnType<typeof vi.fn>;
}

async function openLog(checkpoint: AuditConfigInput['checkpoint'] = {}): Promise<{ file: string; cpPath: string; sink: Awaited<ReturnType<typeof openAuditSink>> }> {
  const file = join(tempDir('warden-cpfresh-'), 'warden-audit.jsonl');
  const sink = await openAuditSink({ file, checkpoint }, { clock: manualClock().now });
  return { file, cpPath: defaultCheckpointPath(file), sink };
}

/**
 * What the reviewer's rehash.py does: turns the first blocked decision into an allow and
 * re-computes every hash from there to the end, so the chain itself still links.
 */
function rehashFromFirstBlock(file: string): void {
  let prev = GENESIS_HASH;
  let changed = false;
  const out = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const { hash: _h, seq, ts, prev: _p, v: _v, ...fields } = JSON.parse(line) as Record<string, unknown>;
    if (!changed && fields.action === 'block') {
      Object.assign(fields, { action: 'allow', enforced: 'allow' });
      changed = true;
    }
    const encoded = encodeRecord(fields, { seq: seq as number, ts: ts as string, prev });
    prev = encoded.hash;
    return encoded.line;
  });
  expect(changed).toBe(true);
  writeFileSync(file, out.join(''));
}

describe('the checkpoint follows the log in time, not only every N records', () => {
  it('covers a record at most maxDelayMs after it was written (long before everyRecords)', async () => {
    fakeTimeouts();
    const { sink, cpPath } = await openLog({ maxDelayMs: 250 });
    sink.record(decision(1));
    sink.record(decision(2));
    expect(readCheckpointFile(cpPath).seq).toBe(0);
    vi.advanceTimersByTime(249);
    expect(readCheckpointFile(cpPath).seq).toBe(0);
    vi.advanceTimersByTime(1);
    await sink.checkpointSettled();
    expect(readCheckpointFile(cpPath)).toMatchObject({ seq: 2, hash: sink.lastHash, closed: false });
    await sink.close();
  });

  it('defaults to 1 s', async () => {
    fakeTimeouts();
    const { sink, cpPath } = await openLog();
    sink.record(decision(1));
    vi.advanceTimersByTime(999);
    expect(readCheckpointFile(cpPath).seq).toBe(0);
    vi.advanceTimersByTime(1);
    await sink.checkpointSettled();
    expect(readCheckpointFile(cpPath).seq).toBe(1);
    await sink.close();
  });

  it('writes one timed checkpoint per period however many records, and none while idle', async () => {
    fakeTimeouts();
    const { sink } = await openLog({ maxDelayMs: 100 });
    const writes = checkpointsComputed(sink);
    for (let i = 0; i < 500; i++) sink.record(decision(i));
    expect(writes).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    await sink.checkpointSettled();
    expect(writes).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(writes).toHaveBeenCalledTimes(1);
    sink.record(decision(501));
    vi.advanceTimersByTime(100);
    await sink.checkpointSettled();
    expect(writes).toHaveBeenCalledTimes(2);
    await sink.close();
  });

  it('a count checkpoint resets the timer; close writes the final one and leaves no timer behind', async () => {
    fakeTimeouts();
    const { sink, cpPath } = await openLog({ maxDelayMs: 100, everyRecords: 3 });
    const writes = checkpointsComputed(sink);
    for (let i = 0; i < 3; i++) sink.record(decision(i));
    await sink.checkpointSettled();
    expect(writes).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    await sink.checkpointSettled();
    expect(writes).toHaveBeenCalledTimes(1);
    sink.record(decision(4));
    await sink.close();
    expect(readCheckpointFile(cpPath)).toMatchObject({ seq: 4, closed: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('maxDelayMs 0 turns the timer off (count, rotation, start and close only)', async () => {
    fakeTimeouts();
    const { sink, cpPath } = await openLog({ maxDelayMs: 0 });
    sink.record(decision(1));
    vi.advanceTimersByTime(60_000);
    expect(readCheckpointFile(cpPath).seq).toBe(0);
    await sink.close();
    expect(readCheckpointFile(cpPath).seq).toBe(1);
  });

  it('rejects a negative or fractional maxDelayMs at start-up', async () => {
    for (const maxDelayMs of [-1, 1.5]) {
      await expect(openLog({ maxDelayMs })).rejects.toMatchObject({ code: 'config_invalid' });
    }
  });

  it('catches a decision flipped and re-hashed to the end once the timed checkpoint ran (rehash.py)', async () => {
    fakeTimeouts();
    const dir = tempDir('warden-cpfresh-');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const file = join(dir, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file, checkpoint: { signingKey: join(dir, 'k.pem') } }, { clock: manualClock().now });
    for (let i = 0; i < 50; i++) sink.record(decision(i, i === 20 ? 'block' : 'allow'));
    vi.advanceTimersByTime(1000);
    await sink.checkpointSettled();
    // warden is still running (no close): the timed checkpoint is all that covers these records.
    rehashFromFirstBlock(file);
    const report = verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file), publicKey });
    expect(report.problem).toMatchObject({ code: 'modified_record', seq: 50 });
    await sink.close();
    rmSync(dir, { recursive: true });
  });
});

describe('verify says what the checkpoint does not cover', () => {
  it('warns uncovered_records for the records after the checkpoint, at the first of them', async () => {
    fakeTimeouts();
    const { sink, file, cpPath } = await openLog({ maxDelayMs: 100 });
    for (let i = 0; i < 5; i++) sink.record(decision(i));
    vi.advanceTimersByTime(100);
    await sink.checkpointSettled();
    for (let i = 5; i < 8; i++) sink.record(decision(i));
    const report = verifyAuditFiles([file], { checkpoint: cpPath });
    expect(report.ok).toBe(true);
    expect(report.uncoveredRecords).toBe(3);
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'uncovered_records', file, line: 6, seq: 6 })]);
    await sink.close();
    const closed = verifyAuditFiles([file], { checkpoint: cpPath });
    expect(closed.warnings).toEqual([]);
    expect(closed.uncoveredRecords).toBe(0);
  });

  it('warns that a re-hashed tail after the checkpoint would pass (the reviewer\'s b.jsonl)', async () => {
    fakeTimeouts();
    const { sink, file, cpPath } = await openLog({ maxDelayMs: 0 });
    for (let i = 0; i < 10; i++) sink.record(decision(i, i === 4 ? 'block' : 'allow'));
    rehashFromFirstBlock(file);
    const report = verifyAuditFiles([file], { checkpoint: cpPath });
    // Undetectable by construction; what verify owes is to say so instead of a plain OK.
    expect(report.ok).toBe(true);
    expect(report.warnings.map((w) => w.code)).toEqual(['uncovered_records']);
    expect(report.uncoveredRecords).toBe(10);
    await sink.close();
  });

  it('warns no_checkpoint when the checkpoint was deleted and the tail cut (t4.jsonl)', async () => {
    const { sink, file, cpPath } = await openLog();
    for (let i = 0; i < 10; i++) sink.record(decision(i));
    await sink.close();
    rmSync(cpPath);
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 6).map((l) => `${l}\n`).join(''));
    const report = verifyAuditFiles([file]);
    expect(report.ok).toBe(true);
    expect(report.warnings.map((w) => w.code)).toEqual(['no_checkpoint']);
    expect(report.uncoveredRecords).toBe(6);
  });

  it('warns unchecked_signature for a signed checkpoint verified without a public key (a rewritten log and checkpoint would pass)', async () => {
    const dir = tempDir('warden-cpfresh-');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const file = join(dir, 'warden-audit.jsonl');
    const sink = await openAuditSink({ file, checkpoint: { signingKey: join(dir, 'k.pem') } }, { clock: manualClock().now });
    for (let i = 0; i < 10; i++) sink.record(decision(i, i === 4 ? 'block' : 'allow'));
    await sink.close();
    const cpPath = defaultCheckpointPath(file);
    // The forger re-hashes the log and points the checkpoint at the new last hash, keeping the
    // old signature (they have no key).
    rehashFromFirstBlock(file);
    const lastHash = (JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1) as string) as { hash: string }).hash;
    writeFileSync(cpPath, JSON.stringify({ ...readCheckpointFile(cpPath), hash: lastHash }));
    const unchecked = verifyAuditFiles([file], { checkpoint: cpPath });
    expect(unchecked.problem).toBeUndefined();
    expect(unchecked.warnings.map((w) => w.code)).toEqual(['unchecked_signature']);
    expect(verifyAuditFiles([file], { checkpoint: cpPath, publicKey }).problem?.code).toBe('bad_signature');
    rmSync(dir, { recursive: true });
  });

  it('adds no coverage warning to a report that already failed', async () => {
    const { sink, file, cpPath } = await openLog();
    for (let i = 0; i < 10; i++) sink.record(decision(i));
    await sink.close();
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 6).map((l) => `${l}\n`).join(''));
    const report = verifyAuditFiles([file], { checkpoint: cpPath });
    expect(report.problem?.code).toBe('truncated_tail');
    expect(report.warnings).toEqual([]);
  });
});
