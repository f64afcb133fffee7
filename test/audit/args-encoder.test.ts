import { describe, expect, it } from 'vitest';
import { createArgsEncoder } from '../../src/audit/args-encoder.js';
import { auditEvent, principalSummary } from '../../src/audit/events.js';
import { createFieldSerializer } from '../../src/audit/fast-canonical.js';
import { PreEncodedField } from '../../src/audit/pre-encoded.js';
import { encodeRecord, GENESIS_HASH } from '../../src/audit/record-codec.js';
import { MAX_DEPTH, type RedactRules } from '../../src/audit/redact-rules.js';
import { createRedactor, fullDigest, withDigests } from '../../src/audit/redactor.js';
import { sinkRedactRules } from '../../src/audit/start-audit-sink.js';
import { ANONYMOUS_PRINCIPAL } from '../../src/identity/anonymous-authenticator.js';
import { HOSTILE_KEYS, HOSTILE_NUMBERS, HOSTILE_STRINGS, HOSTILE_VALUES } from '../helpers/audit-hostile-values.js';
import { int, rng } from './audit-test-helpers.js';

/**
 * The guard's one-walk argument encoder against the two passes it replaces: the policy engine's
 * redactor (createRedactor with audit + policy rules), then the sink's serializer (audit rules,
 * anchored under `args`) writing that redacted copy; and fullDigest of the whole arguments.
 */
interface Setup {
  readonly audit: { paths: string[]; patterns: string[] };
  readonly policy: { paths: string[]; patterns: string[] };
}

const SETUPS: Record<string, Setup> = {
  'no rules': { audit: { paths: [], patterns: [] }, policy: { paths: [], patterns: [] } },
  'audit and policy rules': {
    audit: { paths: ['card.number', 'pin', '*.secret', '**.token'], patterns: ['SSN-\\d+'] },
    policy: { paths: ['deep.a', 'list', 'message'], patterns: ['agent-\\d', 'café'] },
  },
  'audit rules only': { audit: { paths: ['**.deep', 'card', 'a.b.c'], patterns: ['[0-9a-f]{8}-'] }, policy: { paths: [], patterns: [] } },
  'policy rules only': { audit: { paths: [], patterns: [] }, policy: { paths: ['*.a', '**.message', 'z'], patterns: ['x{3}'] } },
  // Patterns that match inside `[REDACTED]`: the sink scrubs the engine's output once more.
  'patterns that hit the redaction marker': { audit: { paths: ['pin'], patterns: ['ACT', 'ED\\]'] }, policy: { paths: ['password2', 'b'], patterns: ['\\[RED'] } },
  'audit path naming the field itself': { audit: { paths: ['args'], patterns: [] }, policy: { paths: [], patterns: [] } },
};

function engineRules(s: Setup): RedactRules {
  return { paths: [...s.audit.paths, ...s.policy.paths], patterns: [...s.audit.patterns, ...s.policy.patterns] };
}

/** A random JSON-like tree from hostile keys and strings; `odd` lets in values only the two-pass way takes. */
function tree(rand: () => number, depth: number, odd: boolean): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.35) {
    const leaf = rand();
    if (leaf < 0.55) return HOSTILE_STRINGS[int(rand, 0, HOSTILE_STRINGS.length - 1)];
    if (leaf < 0.8) {
      const n = HOSTILE_NUMBERS[int(rand, 0, HOSTILE_NUMBERS.length - 1)]!;
      return odd || Number.isFinite(n) ? n : 1;
    }
    if (leaf < 0.95) return [true, false, null][int(rand, 0, 2)];
    return odd ? HOSTILE_VALUES[int(rand, 0, HOSTILE_VALUES.length - 1)]!() : 'plain';
  }
  if (r < 0.55) return Array.from({ length: int(rand, 0, 4) }, () => tree(rand, depth - 1, odd));
  const o: Record<string, unknown> = {};
  for (let i = int(rand, 0, 5); i > 0; i--) {
    Object.defineProperty(o, HOSTILE_KEYS[int(rand, 0, HOSTILE_KEYS.length - 1)]!, { value: tree(rand, depth - 1, odd), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

function deep(n: number): unknown {
  let v: unknown = { leaf: 'Bearer abcdefghijklmnop' };
  for (let i = 0; i < n; i++) v = i % 3 === 0 ? [v] : { a: v, token: 't' };
  return v;
}

function check(setup: Setup, values: readonly unknown[]): number {
  const encode = createArgsEncoder(engineRules(setup), sinkRedactRules(setup.audit));
  const redact = createRedactor(engineRules(setup));
  const sink = createFieldSerializer(sinkRedactRules(setup.audit));
  const other = createFieldSerializer({ paths: ['message'], patterns: ['i'] });
  let oneWalk = 0;
  for (const v of values) {
    const encoded = encode(v);
    const redacted = redact(v).redacted;
    expect(encoded.digest).toBe(fullDigest(v));
    expect(sink(encoded.field, 'args')).toBe(sink(redacted, 'args'));
    // A sink with other rules, or another field name, writes the redacted value by its own rules.
    expect(other(encoded.field, 'args')).toBe(other(redacted, 'args'));
    expect(sink(encoded.field, 'result')).toBe(sink(redacted, 'result'));
    expect(JSON.stringify(encoded.field)).toBe(JSON.stringify(redacted));
    if (encoded.field instanceof PreEncodedField) oneWalk++;
  }
  return oneWalk;
}

describe('one-walk argument encoder = engine redaction then sink serialization', () => {
  for (const [name, setup] of Object.entries(SETUPS)) {
    it(`random plain arguments (${name})`, () => {
      const rand = rng(11);
      const values = Array.from({ length: 1500 }, () => tree(rand, int(rand, 0, 7), false));
      values.push({}, [], { message: 'ping' }, deep(MAX_DEPTH - 6), deep(MAX_DEPTH - 4), deep(MAX_DEPTH - 3), deep(MAX_DEPTH + 2));
      // Objects and arrays of plain data take the one walk (the point of the encoder), except the
      // two deepest nestings; top-level scalars (never arguments) take the two-pass way.
      const containers = values.filter((v) => typeof v === 'object' && v !== null).length;
      expect(check(setup, values)).toBeGreaterThanOrEqual(containers - 2);
    });

    it(`hostile and odd values (${name})`, () => {
      const rand = rng(5);
      const values = [...HOSTILE_VALUES.map((make) => make()), ...HOSTILE_STRINGS, ...HOSTILE_NUMBERS, null, undefined, true];
      for (let i = 0; i < 800; i++) values.push(tree(rand, int(rand, 0, 6), true));
      values.push({ password: () => 1, ok: 'x' }, { password: undefined }, { token: { when: new Date(0) } }, { token: 10n }, { card: { number: Number.NaN } });
      const cyclic: Record<string, unknown> = { a: 'x' };
      cyclic.secret = { back: cyclic };
      values.push(cyclic, { nest: cyclic });
      check(setup, values);
    });
  }

  it('gives the same record line and hash as the redacted copy', () => {
    const setup = SETUPS['audit and policy rules']!;
    const encode = createArgsEncoder(engineRules(setup), sinkRedactRules(setup.audit));
    const redact = createRedactor(engineRules(setup));
    const sink = createFieldSerializer(sinkRedactRules(setup.audit));
    const who = principalSummary(ANONYMOUS_PRINCIPAL);
    const args = { message: 'ping SSN-12', card: { number: '4111', pin: 1 }, list: [{ token: 'x' }], note: 'agent-7 café' };
    const encoded = encode(args);
    expect(encoded.field).toBeInstanceOf(PreEncodedField);
    const fields = (a: unknown) => auditEvent('call.received', { callId: 'c', sessionId: 's', principal: who, upstream: 'u', tool: 't', args: a, argsDigest: encoded.digest });
    const pos = { seq: 7, ts: '2026-11-22T12:00:00.000Z', prev: GENESIS_HASH };
    const a = encodeRecord(withDigests(fields(encoded.field)), pos, sink);
    const b = encodeRecord(withDigests(fields(redact(args).redacted)), pos, sink);
    expect(a).toEqual(b);
  });

  it('builds the redacted copy only when something asks for it', () => {
    const encode = createArgsEncoder({}, {});
    let reads = 0;
    const args = Object.defineProperty({ a: 'x' }, 'counted', { get: () => (reads += 1), enumerable: true });
    const encoded = encode(args);
    expect(reads).toBe(1);
    expect((encoded.field as PreEncodedField).value).toEqual({ a: 'x', counted: 2 });
    expect(reads).toBe(2);
  });
});
