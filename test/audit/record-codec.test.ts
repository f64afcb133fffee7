import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, GENESIS_HASH } from '../../src/audit/record-codec.js';
import { escapeUnsafeJson } from '../../src/audit/escape-unsafe.js';
import { canonicalJson, sha256Hex } from '../../src/core/canonical-json.js';

const pos = { seq: 1, ts: '2026-11-22T12:00:00.000Z', prev: GENESIS_HASH };

describe('record codec', () => {
  it('writes the canonical JSON of the full record and hashes prev || canonical(record without hash)', () => {
    const { line, hash } = encodeRecord({ type: 'call.decision', callId: 'c1', action: 'allow', zeta: [1, { b: 2, a: 1 }] }, pos);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(line).toBe(`${canonicalJson(parsed)}\n`);
    const { hash: _h, ...rest } = parsed;
    expect(hash).toBe(sha256Hex(GENESIS_HASH + canonicalJson(rest)));
    expect(parsed).toMatchObject({ v: 1, seq: 1, prev: GENESIS_HASH, hash });
    expect(decodeRecord(line.trimEnd()).kind).toBe('ok');
  });

  it('overrides producer fields named like chain fields (no forged seq or hash)', () => {
    const { line } = encodeRecord({ type: 'x', seq: 99, hash: 'f'.repeat(64), prev: 'e'.repeat(64), v: 7 }, pos);
    expect(JSON.parse(line)).toMatchObject({ seq: 1, prev: GENESIS_HASH, v: 1 });
    expect(decodeRecord(line.trimEnd()).kind).toBe('ok');
  });

  it('escapes C0, C1, zero-width and bidi characters (Trojan Source) in the written bytes', () => {
    const evil = 'a\u0000b\u001bc\u007fd\u0085e\u200bf\u202eg\u2066h\u2069i\ufeffj\u2028k';
    const { line } = encodeRecord({ type: 'x', s: evil, [`k\u202e`]: 1 }, pos);
    expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/);
    expect(line).toContain('\\u202e');
    expect(line).toContain('\\u001b');
    const back = JSON.parse(line) as { s: string };
    expect(back.s).toBe(evil);
    expect(decodeRecord(line.trimEnd()).kind).toBe('ok');
  });

  it('rejects a record whose bytes are not canonical even when the content is equal', () => {
    const { line } = encodeRecord({ type: 'x', s: '\u202e' }, pos);
    expect(decodeRecord(line.trimEnd().replace('\\u202e', '\\u202E')).kind).toBe('bad_hash');
    expect(decodeRecord(line.trimEnd().replace('{', '{ ')).kind).toBe('bad_hash');
  });

  it('reports a record nested too deep to canonicalise as modified instead of throwing', () => {
    // The writer cuts values at depth 32; a line nested 200,000 deep overflowed the stack of
    // the canonicaliser and verify ended with "Maximum call stack size exceeded", no line named.
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const line = `{"args":${deep},"hash":"${'1'.repeat(64)}","prev":"${GENESIS_HASH}","seq":1,"ts":"${pos.ts}","type":"call.received","v":1}`;
    expect(decodeRecord(line).kind).toBe('bad_hash');
  });

  it('classifies non-JSON and non-record lines', () => {
    expect(decodeRecord('{"seq":1').kind).toBe('not_json');
    expect(decodeRecord('[1,2]').kind).toBe('not_record');
    expect(decodeRecord('{"seq":1,"type":"x"}').kind).toBe('not_record');
  });

  it('escapeUnsafeJson leaves clean text untouched', () => {
    const s = '{"a":"plain ascii and ünïcödé"}';
    expect(escapeUnsafeJson(s)).toBe(s);
  });
});
