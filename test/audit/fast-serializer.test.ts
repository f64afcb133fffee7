import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventType } from '../../src/audit/audit-sink.js';
import { auditEvent, decisionEvent, principalSummary, resultEvent } from '../../src/audit/events.js';
import { createFieldSerializer } from '../../src/audit/fast-canonical.js';
import { encodeRecord, GENESIS_HASH, type ChainPosition, type FieldSerializer } from '../../src/audit/record-codec.js';
import { createCanonicalRedactor } from '../../src/audit/redact-canonical.js';
import type { RedactRules } from '../../src/audit/redact-rules.js';
import { withDigests } from '../../src/audit/redactor.js';
import { sealForAudit } from '../../src/audit/sealed-value.js';
import { sinkRedactRules } from '../../src/audit/start-audit-sink.js';
import { ANONYMOUS_PRINCIPAL } from '../../src/identity/anonymous-authenticator.js';
import { AUDIT_FIELD_SPEC } from '../helpers/audit-field-spec.js';
import { HOSTILE_KEYS, HOSTILE_NUMBERS, HOSTILE_STRINGS, HOSTILE_VALUES } from '../helpers/audit-hostile-values.js';
import { referenceRecord } from '../helpers/audit-reference-encoding.js';
import { int, rng } from './audit-test-helpers.js';

/**
 * The sink's field serializer (createFieldSerializer) against the generic walk it shortcuts
 * (createCanonicalRedactor, assembled by a plain reference encoder): every event type and shape
 * the schema knows, with realistic and hostile values, under several redaction rule sets, must
 * give the same line and the same hash.
 */
const RULE_SETS: Record<string, RedactRules> = {
  'no rules': {},
  'sink defaults': sinkRedactRules({ paths: [], patterns: [] }),
  'policy paths and patterns': sinkRedactRules({ paths: ['card.number', 'pin', '*.secret', '**.token', 'principal.user'], patterns: ['SSN-\\d+', 'agent-\\d'] }),
  'raw event paths': { paths: ['principal.actorChain', '**.deep', 'details.*', 'args.card'], patterns: ['[0-9a-f]{8}-'] },
};

const TIMESTAMPS = ['2026-11-22T12:00:00.000Z', '2026-11-22T12:00:00.001Z', 'odd \u202e ts "x"'];

function valueFor(rand: () => number): unknown {
  const r = rand();
  if (r < 0.3) return HOSTILE_STRINGS[int(rand, 0, HOSTILE_STRINGS.length - 1)];
  if (r < 0.4) return HOSTILE_NUMBERS[int(rand, 0, HOSTILE_NUMBERS.length - 1)];
  if (r < 0.45) return [true, false, null, undefined][int(rand, 0, 3)];
  return HOSTILE_VALUES[int(rand, 0, HOSTILE_VALUES.length - 1)]!();
}

/** One event of every documented type and shape, with random values in its fields (and one stray field). */
function generatedEvents(rand: () => number): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const [type, shapes] of Object.entries(AUDIT_FIELD_SPEC)) {
    for (const shape of shapes) {
      const fields: Record<string, unknown> = { type };
      for (const k of shape.required) fields[k] = valueFor(rand);
      for (const k of shape.optional) if (rand() < 0.5) fields[k] = valueFor(rand);
      // Producers may not add fields, but the encoder must not care: hostile key names too.
      if (rand() < 0.3) Object.defineProperty(fields, HOSTILE_KEYS[int(rand, 0, HOSTILE_KEYS.length - 1)]!, { value: valueFor(rand), enumerable: true, writable: true, configurable: true });
      if (rand() < 0.1) fields.seq = 'forged';
      events.push({ ...fields, type: type as AuditEventType });
    }
  }
  return events;
}

/** Events as the guard builds them for one forwarded call (the hot path). */
function callEvents(i: number): AuditEvent[] {
  const who = principalSummary(ANONYMOUS_PRINCIPAL);
  const callId = `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const sessionId = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
  const reasons = [{ code: 'sensitivity.low', detail: 'tool class diagnostic', weight: 0 }];
  const decision = { action: 'allow' as const, enforced: 'allow' as const, mode: 'enforce' as const, score: i % 7, rules: ['allow-everything'], policyHash: `sha256:${'9f'.repeat(32)}`, reasons, sensitivity: 'low' as const, toolClass: undefined };
  return [
    auditEvent('call.received', { callId, sessionId, principal: who, upstream: 'acme', tool: 'echo', args: { message: `ping ${i}` }, argsDigest: `sha256:${'0a'.repeat(32)}` }),
    auditEvent('call.risk', { callId, sessionId, score: decision.score, reasons, sensitivity: 'low' }),
    decisionEvent(callId, sessionId, decision as never, { tool: 'echo', principal: who }),
    auditEvent('call.forwarded', { callId, sessionId, upstream: 'acme', tool: 'echo' }),
    resultEvent(callId, sessionId, { status: 'ok', durationMs: 1.25 + i, resultBytes: 43, resultItems: 1, result: { content: [{ type: 'text', text: 'Echo: ping' }] } }, i % 2 === 0),
  ];
}

/** Encodes `events` as a chain with both paths and expects identical lines and hashes. */
function expectSameChain(events: readonly AuditEvent[], fast: FieldSerializer, generic: FieldSerializer, label: string): void {
  let prev = GENESIS_HASH;
  events.forEach((event, i) => {
    const pos: ChainPosition = { seq: i + 1, ts: TIMESTAMPS[i % TIMESTAMPS.length]!, prev };
    const expected = referenceRecord(event, pos, generic);
    const actual = encodeRecord(withDigests(event), pos, fast);
    if (actual.line !== expected.line) expect(actual.line, `${label}, record ${i} (${event.type})`).toBe(expected.line);
    expect(actual.hash).toBe(expected.hash);
    prev = actual.hash;
  });
}

describe('fast field serializer = generic walk, byte for byte', () => {
  for (const [name, rules] of Object.entries(RULE_SETS)) {
    it(`every event type and shape with hostile values (${name})`, () => {
      // One serializer pair across all seeds: its caches (key orders, string texts, sealed values) warm up and churn.
      const fast = createFieldSerializer(rules);
      const generic = createCanonicalRedactor(rules);
      for (let seed = 1; seed <= 30; seed++) {
        const events = generatedEvents(rng(seed));
        // Twice: the second pass runs on warm caches (and sealed values seen before).
        expectSameChain([...events, ...events], fast, generic, `seed ${seed}`);
      }
    });
  }

  it('the records of forwarded calls, as the guard builds them, under every rule set', () => {
    for (const [name, rules] of Object.entries(RULE_SETS)) {
      const events = Array.from({ length: 50 }, (_, i) => callEvents(i)).flat();
      expectSameChain(events, createFieldSerializer(rules), createCanonicalRedactor(rules), name);
    }
  });

  it('writes one sealed value by the rules of each field it appears in', () => {
    const rules = RULE_SETS['raw event paths']!;
    const fast = createFieldSerializer(rules);
    const generic = createCanonicalRedactor(rules);
    const shared = principalSummary(Object.freeze({ ...ANONYMOUS_PRINCIPAL, actor: 'agent-9', priorActors: Object.freeze(['p']) }));
    const events: AuditEvent[] = ['principal', 'expected', 'password', 'principal', 'apiKey', 'expected'].map((key, i) => ({ type: 'session.hijack_rejected', sessionId: `s${i}`, [key]: shared }));
    expectSameChain(events, fast, generic, 'sealed');
    expect(encodeRecord(events[2]!, { seq: 1, ts: 't', prev: GENESIS_HASH }, fast).line).toContain('"password":"[REDACTED]"');
  });

  it('walks a sealed value once per field name (the principal summary of a session repeats in its records)', () => {
    let reads = 0;
    const sealed = sealForAudit(Object.defineProperty({ user: 'alice' }, 'counted', { get: () => (reads += 1), enumerable: true }));
    const fast = createFieldSerializer({});
    const before = reads;
    expect(fast(sealed, 'principal')).toBe(fast(sealed, 'principal'));
    expect(reads - before).toBe(1);
    fast(sealed, 'expected');
    expect(reads - before).toBe(2);
  });

  it('stays equal when its bounded caches overflow (thousands of key sets and strings)', () => {
    const rules = RULE_SETS['policy paths and patterns']!;
    const fast = createFieldSerializer(rules);
    const generic = createCanonicalRedactor(rules);
    const events: AuditEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      const args: Record<string, unknown> = { [`k${i % 1500}`]: `v${i}`, [`j${i % 11}`]: { pin: i, [`n${i % 9}`]: `Bearer abcdefgh${i}` } };
      events.push({ type: 'call.received', callId: `id-${i}`, args, tool: `tool-${i}` });
    }
    expectSameChain(events, fast, generic, 'overflow');
  });
});

describe('fast field serializer: where it hands over to the generic walk', () => {
  const counting = (rules: RedactRules) => {
    const generic = createCanonicalRedactor(rules);
    let used = 0;
    const fast = createFieldSerializer(rules, (value, key) => {
      used += 1;
      return generic(value, key);
    });
    return { fast, used: () => used };
  };

  it('never for the records of a forwarded call (the hot path stays fast)', () => {
    const { fast, used } = counting(RULE_SETS['sink defaults']!);
    for (let i = 0; i < 20; i++) for (const e of callEvents(i)) encodeRecord(withDigests(e), { seq: 1, ts: TIMESTAMPS[0]!, prev: GENESIS_HASH }, fast);
    expect(used()).toBe(0);
  });

  it('for Dates, Errors, buffers, class instances, bigints, cycles and depth at the limit', () => {
    for (const make of [() => new Date(0), () => new Error('x'), () => Buffer.from('x'), () => new Map(), () => 10n, () => ({ a: { b: new Date(0) } })]) {
      const { fast, used } = counting({});
      fast(make(), 'field');
      expect(used(), String(make())).toBe(1);
    }
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    const { fast, used } = counting({});
    expect(fast(cyc, 'field')).toBe('{"self":"[TRUNCATED]"}');
    expect(used()).toBe(1);
  });
});
