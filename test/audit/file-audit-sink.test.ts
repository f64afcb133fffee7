import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath, logSet } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { readRecords } from '../../src/audit/read-records.js';
import { readCheckpointFile } from '../../src/audit/checkpoint.js';
import { encodeRecord } from '../../src/audit/record-codec.js';
import { digestOf } from '../../src/core/canonical-json.js';
import { captureLogger, codeOf, manualClock, tempDir } from './audit-test-helpers.js';
import { matchShape } from '../helpers/audit-field-spec.js';

const decision = (i: number): { type: 'call.decision'; callId: string; action: string } => ({ type: 'call.decision', callId: `c${i}`, action: 'allow' });

afterEach(() => {
  vi.useRealTimers();
});

describe('FileAuditSink write-ahead and chain', () => {
  it('has the record in the file when record() returns (one completed write)', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const sink = await openAuditSink({ file });
    for (let i = 0; i < 20; i++) {
      sink.record(decision(i));
      expect(readFileSync(file, 'utf8')).toContain(`"callId":"c${i}"`);
    }
    expect(sink.lastSeq).toBe(20);
    await sink.close();
    expect(verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });

  it('continues the chain after a clean restart without a recovery record', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const a = await openAuditSink({ file });
    for (let i = 0; i < 5; i++) a.record(decision(i));
    await a.close();
    const b = await openAuditSink({ file });
    expect(b.lastSeq).toBe(5);
    b.record(decision(5));
    await b.close();
    const records = readRecords([file]);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records.some((r) => r.type === 'audit.recovered')).toBe(false);
    expect(verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) }).ok).toBe(true);
  });

  it('discards a torn last line on start, keeps its bytes aside and records audit.recovered', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const a = await openAuditSink({ file });
    for (let i = 0; i < 3; i++) a.record(decision(i));
    await a.close();
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('{"action":"allow","callId":"c3","ha')]));
    const b = await openAuditSink({ file });
    await b.close();
    const rec = readRecords([file]).at(-1)!;
    expect(rec).toMatchObject({ type: 'audit.recovered', reason: 'torn_tail', discardedBytes: 35, lastGoodSeq: 3, seq: 4 });
    expect(readFileSync(rec.movedTo as string, 'utf8')).toBe('{"action":"allow","callId":"c3","ha');
    const report = verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([]);
  });

  it('records an unclean shutdown (no close) on the next start', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const a = await openAuditSink({ file });
    for (let i = 0; i < 3; i++) a.record(decision(i));
    // no close(): like SIGKILL
    const b = await openAuditSink({ file });
    await b.close();
    expect(readRecords([file]).at(-1)).toMatchObject({ type: 'audit.recovered', reason: 'unclean_shutdown', lastGoodSeq: 3 });
    expect(verifyAuditFiles([file]).ok).toBe(true);
  });

  it('says loudly when the log ends before its checkpoint (truncated while stopped)', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const a = await openAuditSink({ file });
    for (let i = 0; i < 10; i++) a.record(decision(i));
    await a.close();
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 5).join('\n') + '\n');
    const { logger, lines } = captureLogger();
    const b = await openAuditSink({ file }, { logger });
    await b.close();
    expect(readRecords([file]).at(-1)).toMatchObject({ type: 'audit.recovered', reason: 'checkpoint_ahead', checkpointSeq: 10, lastGoodSeq: 5 });
    expect(lines.some((l) => l.level >= 50)).toBe(true);
  });

  it('a log cut while stopped still fails verify after the restart re-checkpointed it (truncated_tail)', async () => {
    const dir = tempDir();
    const file = join(dir, 'a.jsonl');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'k.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const a = await openAuditSink({ file, checkpoint: { signingKey: keyFile } });
    for (let i = 0; i < 10; i++) a.record(decision(i));
    await a.close();
    // The last five records (say, the blocked calls) are cut off while warden is stopped.
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 6).join('\n') + '\n');
    const b = await openAuditSink({ file, checkpoint: { signingKey: keyFile } }, { logger: captureLogger().logger });
    b.record(decision(99));
    await b.close();
    const report = verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file), publicKey });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ code: 'truncated_tail', line: 7, seq: 7 });
  });

  it('refuses to continue a log edited and re-hashed while stopped (a new signed checkpoint would launder it)', async () => {
    for (const after of [0, 3]) {
      const file = join(tempDir(), 'a.jsonl');
      const a = await openAuditSink({ file, checkpoint: { everyRecords: 1_000_000, maxDelayMs: 0 } });
      for (let i = 0; i < 6; i++) a.record(decision(i));
      await a.close();
      // Records written after the last checkpoint (a crash): the check must find seq 6 among them.
      const extra: string[] = [];
      let prev = (readRecords([file]).at(-1) as { hash: string }).hash;
      for (let i = 0; i < after; i++) {
        const e = encodeRecord({ type: 'call.decision', callId: `x${i}` }, { seq: 7 + i, ts: new Date().toISOString(), prev });
        extra.push(e.line);
        prev = e.hash;
      }
      writeFileSync(file, `${readFileSync(file, 'utf8')}${extra.join('')}`);
      // The attacker (no signing key) rewrites seq 5.. with the same seqs and re-hashes the rest.
      const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
      prev = (JSON.parse(lines[3] as string) as { hash: string }).hash;
      const out = lines.slice(0, 4).map((l) => `${l}\n`);
      for (const l of lines.slice(4)) {
        const { v: _v, seq, ts, prev: _p, hash: _h, ...fields } = JSON.parse(l) as Record<string, unknown> & { seq: number; ts: string };
        const e = encodeRecord({ ...fields, forged: true }, { seq, ts, prev });
        out.push(e.line);
        prev = e.hash;
      }
      writeFileSync(file, out.join(''));
      await expect(openAuditSink({ file })).rejects.toMatchObject({ code: 'audit_corrupt' });
    }
  });

  it('continues a clean log whose records go on after the checkpoint (crash before it was rewritten)', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const a = await openAuditSink({ file, maxFileBytes: 2048, checkpoint: { everyRecords: 1_000_000, maxDelayMs: 0 } });
    for (let i = 0; i < 30; i++) a.record(decision(i));
    await a.close();
    let prev = a.lastHash;
    const extra: string[] = [];
    for (let i = 0; i < 3; i++) {
      const e = encodeRecord({ type: 'call.decision', callId: `x${i}` }, { seq: a.lastSeq + 1 + i, ts: new Date().toISOString(), prev });
      extra.push(e.line);
      prev = e.hash;
    }
    writeFileSync(file, `${readFileSync(file, 'utf8')}${extra.join('')}`);
    const b = await openAuditSink({ file });
    await b.close();
    // The three, then the restart's note: records after a clean close's checkpoint are vouched
    // for by nothing (see restart-checkpoint-trust.test.ts).
    expect(b.lastSeq).toBe(a.lastSeq + 4);
    expect(readRecords([...logSet(file)]).at(-1)).toMatchObject({ type: 'audit.recovered', reasons: ['checkpoint_behind'] });
    expect(logSet(file).length).toBeGreaterThan(1);
  });

  it('refuses to continue after a last line that is not a valid record (no laundering of tampering)', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const a = await openAuditSink({ file });
    a.record(decision(0));
    await a.close();
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":2,"type":"forged"}\n`);
    await expect(openAuditSink({ file })).rejects.toMatchObject({ code: 'audit_corrupt' });
  });

  it('rotates by size, names files .1, .2 … and continues the chain across files and restarts', async () => {
    const dir = tempDir();
    const file = join(dir, 'warden-audit.jsonl');
    const a = await openAuditSink({ file, maxFileBytes: 2048 });
    for (let i = 0; i < 60; i++) a.record({ ...decision(i), pad: 'x'.repeat(100) });
    await a.close();
    const files = logSet(file);
    expect(files.length).toBeGreaterThan(3);
    expect(files.slice(0, 2)).toEqual([join(dir, 'warden-audit.1.jsonl'), join(dir, 'warden-audit.2.jsonl')]);
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(2048);
    // A crash between rotation and the first write leaves no active file: the chain still continues.
    renameSync(file, join(dir, `warden-audit.${files.length}.jsonl`));
    const b = await openAuditSink({ file, maxFileBytes: 2048 });
    expect(b.lastSeq).toBe(60);
    b.record(decision(60));
    await b.close();
    const report = verifyAuditFiles(logSet(file), { checkpoint: defaultCheckpointPath(file) });
    expect(report.problem).toBeUndefined();
    expect(report.lastSeq).toBe(61);
  });

  it('overrides forged chain fields and keeps __proto__ as plain data', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const sink = await openAuditSink({ file });
    sink.record({ type: 'call.received', seq: 999, hash: 'f'.repeat(64), args: JSON.parse('{"__proto__":{"x":1}}') });
    await sink.close();
    const r = readRecords([file])[0]!;
    expect(r.seq).toBe(1);
    expect(Object.keys(r.args as object)).toEqual(['__proto__']);
    expect(verifyAuditFiles([file]).ok).toBe(true);
  });

  it('supports fsync always and every N records', async () => {
    for (const fsync of ['always', { everyRecords: 3 }] as const) {
      const file = join(tempDir(), 'a.jsonl');
      const sink = await openAuditSink({ file, fsync });
      for (let i = 0; i < 10; i++) sink.record(decision(i));
      await sink.close();
      expect(verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file) }).records).toBe(10);
    }
  });

  it('throws audit_unavailable after close', async () => {
    const sink = await openAuditSink({ file: join(tempDir(), 'a.jsonl') });
    await sink.close();
    expect(codeOf(() => sink.record(decision(1)))).toBe('audit_unavailable');
    expect(sink.healthy()).toBe(false);
  });
});

describe('FileAuditSink fails closed', () => {
  it('a full disk (the log path retargeted to /dev/full): throws AuditUnavailableError, stays unhealthy, then recovers when writable again', async () => {
    const dir = tempDir();
    const file = join(dir, 'a.jsonl');
    const real = join(dir, 'real.jsonl');
    writeFileSync(real, '');
    symlinkSync(real, file);
    const clock = manualClock();
    const { logger, lines } = captureLogger();
    const sink = await openAuditSink({ file }, { logger, clock: clock.now });
    sink.record(decision(0));
    unlinkSync(file);
    symlinkSync('/dev/full', file);
    // Noticed at the next path check (every 64 records, or the one-second timer).
    let code: string | undefined;
    for (let i = 1; i < 100 && code === undefined; i++) code = codeOf(() => sink.record(decision(i)));
    expect(code).toBe('audit_unavailable');
    expect(sink.healthy()).toBe(false);
    expect(lines.some((l) => l.level === 50 && /UNAVAILABLE/.test(l.msg))).toBe(true);
    // Within the backoff nothing is attempted and everything is refused; after it, /dev/full is
    // no file to write the log to: still refused.
    expect(codeOf(() => sink.record(decision(200)))).toBe('audit_unavailable');
    clock.advance(10_000);
    expect(codeOf(() => sink.record(decision(201)))).toBe('audit_unavailable');
    expect(sink.healthy()).toBe(false);
    const seqBefore = sink.lastSeq;
    unlinkSync(file);
    symlinkSync(real, file);
    clock.advance(10_000);
    sink.record(decision(3));
    expect(sink.healthy()).toBe(true);
    await sink.close();
    const records = readRecords([file]);
    const recovered = records.find((r) => r.type === 'audit.recovered');
    expect(recovered).toMatchObject({ reason: 'file_replaced', seq: seqBefore + 1 });
    expect(matchShape(recovered!)).toEqual({ ok: true, shape: 'write-recovery' });
    expect((recovered!.rejectedRecords as number)).toBeGreaterThanOrEqual(2);
    expect(records.at(-1)).toMatchObject({ callId: 'c3', seq: seqBefore + 2 });
    expect(verifyAuditFiles([file]).ok).toBe(true);
  });

  it('refuses to start on a device at the audit path (/dev/full, /dev/null): records written there are lost or fail', async () => {
    for (const device of ['/dev/full', '/dev/null']) {
      const file = join(tempDir(), 'a.jsonl');
      symlinkSync(device, file);
      await expect(openAuditSink({ file })).rejects.toMatchObject({ code: 'audit_unavailable' });
    }
  });

  it('detects a removed file, refuses records, then reopens the path and says what happened', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const clock = manualClock();
    const sink = await openAuditSink({ file }, { clock: clock.now });
    for (let i = 0; i < 3; i++) sink.record(decision(i));
    const lastHash = sink.lastHash;
    unlinkSync(file);
    let code: string | undefined;
    for (let i = 0; i < 100 && code === undefined; i++) code = codeOf(() => sink.record(decision(100 + i)));
    expect(code).toBe('audit_unavailable');
    expect(sink.healthy()).toBe(false);
    const seqBefore = sink.lastSeq;
    clock.advance(1000);
    sink.record(decision(999));
    await sink.close();
    const records = readRecords([file]);
    expect(records[0]).toMatchObject({ type: 'audit.recovered', reason: 'file_removed', seq: seqBefore + 1 });
    expect(matchShape(records[0]!)).toEqual({ ok: true, shape: 'write-recovery' });
    expect(records[1]).toMatchObject({ callId: 'c999' });
    expect(seqBefore).toBeGreaterThanOrEqual(3);
    if (seqBefore === 3) expect(records[0]!.prev).toBe(lastHash);
  });

  it('notices a removed file on its timer, and recovers on its timer, with no record written', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const file = join(tempDir(), 'a.jsonl');
    const clock = manualClock();
    const sink = await openAuditSink({ file }, { clock: clock.now });
    sink.record(decision(0));
    unlinkSync(file);
    expect(sink.healthy()).toBe(true);
    vi.advanceTimersByTime(1100);
    expect(sink.healthy()).toBe(false);
    // A caller that checks healthy() before record() must not stay blocked forever.
    clock.advance(1000);
    vi.advanceTimersByTime(1000);
    expect(sink.healthy()).toBe(true);
    await sink.close();
    expect(readRecords([file])[0]).toMatchObject({ type: 'audit.recovered', reason: 'file_removed', rejectedRecords: 0, seq: 2 });
  });
});

describe('signing, redaction and configuration', () => {
  it('signs checkpoints with the configured Ed25519 key', async () => {
    const dir = tempDir();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const file = join(dir, 'a.jsonl');
    const sink = await openAuditSink({ file, checkpoint: { signingKey: join(dir, 'k.pem'), everyRecords: 2 } });
    for (let i = 0; i < 5; i++) sink.record(decision(i));
    await sink.close();
    const cp = readCheckpointFile(defaultCheckpointPath(file));
    expect(cp).toMatchObject({ seq: 5, closed: true, file: 'a.jsonl' });
    expect(cp.signature).toBeTypeOf('string');
    const report = verifyAuditFiles([file], { checkpoint: defaultCheckpointPath(file), publicKey });
    expect(report.checkpoint.status).toBe('signed');
  });

  it('names the key path when the signing key cannot be loaded', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.pem'), 'not a key');
    await expect(openAuditSink({ file: join(dir, 'a.jsonl'), checkpoint: { signingKey: join(dir, 'bad.pem') } }, { configFile: 'warden.yaml' }))
      .rejects.toMatchObject({ code: 'config_invalid', keyPath: 'audit.checkpoint.signingKey' });
  });

  it('rejects unknown keys, invalid regexes and catastrophic regexes in the config', async () => {
    const file = join(tempDir(), 'a.jsonl');
    await expect(openAuditSink({ file, fsynk: 'always' } as never)).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(openAuditSink({ file, redact: { patterns: ['('] } } as never)).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(openAuditSink({ file, redact: { patterns: ['(a+)+$'] } } as never)).rejects.toMatchObject({ code: 'config_invalid' });
    expect(existsSync(file)).toBe(false);
  });

  it('never writes secrets: the bytes of the file contain none of them, digests are kept', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const sink = await openAuditSink({ file, redact: { paths: ['card.number'], patterns: ['SSN-\\d+'] } });
    const args = {
      password: 'hunter2-PLAIN', card: { number: '4111111111111111', holder: 'A' }, note: 'my SSN-123456789',
      header: 'Bearer sk_live_abcdefghijklmnopqrstuvwxyz', jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-bytes-here',
      aws: 'AKIAIOSFODNN7EXAMPLE', nested: { apiKey: 'KEY-SHOULD-NOT-APPEAR' },
    };
    sink.record({ type: 'call.received', callId: 'c1', args, result: { token: 'RESULT-TOKEN-VALUE' } });
    sink.record({ type: 'config.loaded', apiKey: 'TOP-LEVEL-KEY-VALUE', note: 'Bearer abcdefghijklmnopq', n: 1 });
    await sink.close();
    const bytes = readFileSync(file, 'utf8');
    for (const secret of ['hunter2-PLAIN', '4111111111111111', 'SSN-123456789', 'sk_live_abc', 'eyJhbGciOiJIUzI1NiJ9', 'AKIAIOSFODNN7EXAMPLE', 'KEY-SHOULD-NOT-APPEAR', 'RESULT-TOKEN-VALUE', 'TOP-LEVEL-KEY-VALUE', 'abcdefghijklmnopq']) {
      expect(bytes).not.toContain(secret);
    }
    const r = readRecords([file])[0]!;
    expect(r.argsDigest).toBe(digestOf(args));
    expect(r.resultDigest).toBe(digestOf({ token: 'RESULT-TOKEN-VALUE' }));
    expect((r.args as { card: { holder: string } }).card.holder).toBe('A');
  });
});
