import { principalSummary } from '../../src/audit/events.js';
import { MAX_DEPTH } from '../../src/audit/redact-rules.js';
import { sealForAudit } from '../../src/audit/sealed-value.js';
import { makePrincipal } from './principal-builder.js';

/**
 * Values an audit record may carry, realistic and hostile, for differential tests of the record
 * encoding. Each entry builds a fresh value (sealing freezes; cycles must not be shared).
 */
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
const PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----';

export const HOSTILE_STRINGS: readonly string[] = [
  '', 'echo', 'allow', 'call.decision', '1b4e28ba-2fa1-11d2-883f-0016d3cca427', `sha256:${'ab12'.repeat(16)}`,
  '2026-11-22T12:00:00.000Z', 'first use of this tool by this user+agent', 'x'.repeat(64), 'y'.repeat(65),
  `token ${JWT} end`, 'Authorization: Bearer abcdefghijklmnop123', 'key AKIAIOSFODNN7EXAMPLE', PEM, `cut ${PEM.slice(0, 60)}`,
  'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'xoxb-1234567890-abcdef', 'sk_live_abcdefghijklmnopqrstuvwx', 'https://bob:s3cret@db.example/x',
  'SSN-123456', 'abc SSN-1 SSN-22', '\u202eevil\u202c', 'a\u0000b\u001bc\u007fd\u0085e', '\u200b\u2028\u2029\ufeff\u2066\u2069',
  'lone \ud800 high', 'lone \udfff low', 'pair 😀', 'quote " back \\ slash', 'naïve café', '\n\r\t',
  `${'z'.repeat(50_000)} Bearer abcdefghijklmnop ${'\u202e'.repeat(3)}`, 'password', '__proto__',
  // One character at each edge of every escaped range (and just outside it), alone in a string.
  ...[0x1f, 0x20, 0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0x200a, 0x200b, 0x200f, 0x2010, 0x2027, 0x2028, 0x202e, 0x202f, 0x2065, 0x2066, 0x2069,
    0x206a, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfefe, 0xfeff, 0xff00].map((c) => `edge ${String.fromCharCode(c)}`),
];

export const HOSTILE_KEYS: readonly string[] = [
  'a', 'b', 'message', 'path', 'password', 'apiKey', 'x-api-key', 'client_secret', 'maxTokens', 'tokenId', 'card', 'number', 'pin',
  'deep', '__proto__', 'constructor', 'toString', '10', '9', '01', '-1', '', 'é', 'a"b', 'k\u202e', 'line\u2028', 'Z', 'z', 'k'.repeat(70),
];

export const HOSTILE_NUMBERS: readonly number[] = [0, -0, 1, -7, 12.232658, 0.1 + 0.2, 1e21, 1e-7, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { [i % 2 ? 'deep' : 'a']: v };
  return v;
}

class Thing {
  readonly kind = 'thing';
  constructor(readonly secret: string) {}
}

function frozenPrincipal(actor: string | undefined) {
  return Object.freeze(makePrincipal({
    issuer: 'https://idp.example', user: 'alice\u202e', actor, priorActors: Object.freeze(['planner', JWT]),
    scopes: Object.freeze(['read', 'write']), clientId: 'cli', tokenId: 'jti-1',
  }));
}

/** One sealed summary shared by many records and fields: its cached text must depend on the field name. */
const SHARED_SEALED = principalSummary(frozenPrincipal('agent-1'));

/** Builders of structured values; each call makes a new value (except the shared sealed one). */
export const HOSTILE_VALUES: readonly (() => unknown)[] = [
  () => SHARED_SEALED,
  () => principalSummary(frozenPrincipal('agent-7')), // sealed, as identity produces it
  () => principalSummary(makePrincipal({ issuer: '', user: 'anonymous', anonymous: true })), // not frozen: built per call
  () => [{ code: 'sensitivity.low', detail: 'tool class diagnostic', weight: 0 }, { code: 'novelty.tool', detail: 'first use', weight: 10 }],
  () => ['allow-everything', 'pins:description'],
  () => ({ kind: 'approver', id: 'ops@example.com' }),
  () => ({ message: 'ping', card: { number: '4111111111111111', exp: '12/30' }, password: 'hunter2', list: [{ pin: '1234' }, { token: JWT }] }),
  () => ({ content: [{ type: 'text', text: `Echo: Bearer abcdefghijklmnop` }], structuredContent: { result: { card: { number: '1' } } } }),
  () => JSON.parse('{"__proto__":{"polluted":true,"password":"p"},"constructor":{"prototype":{"x":1}},"a":1}') as unknown,
  () => Object.assign(Object.create(null) as object, { z: 1, a: 'SSN-42', '10': 'ten', '9': 'nine' }),
  () => nested(MAX_DEPTH + 5, 'bottom Bearer abcdefghijklmnop', false),
  () => nested(MAX_DEPTH + 5, 'bottom', true),
  () => nested(MAX_DEPTH - 2, { leaf: 'x' }, false),
  () => { const o: Record<string, unknown> = { name: 'cyc' }; o.self = o; o.list = [o, { back: o }]; return o; },
  () => { const shared = { s: 'shared' }; return { one: shared, two: shared, arr: [shared, shared] }; },
  () => { const a: unknown[] = [1]; a.push(a); return a; },
  // A sparse array on purpose: holes are written as null.
  () => [1, , 3, undefined, () => 1, Symbol('s'), null, NaN, -0, 10n],
  () => ({ u: undefined, f: () => 1, s: Symbol('s'), [Symbol('k')]: 'hidden', big: 10n, n: -0, inf: -Infinity }),
  () => new Error('failed: Bearer abcdefghijklmnop'),
  () => Object.assign(new TypeError('bad \u202e'), { name: 'Custom\u0085', code: 'E_X' }),
  () => new Date(0),
  () => new Date(Number.NaN),
  () => Buffer.from('secret bytes'),
  () => new Uint16Array(3),
  () => new DataView(new ArrayBuffer(5)),
  () => new ArrayBuffer(4),
  () => new Map([['a', 1]]),
  () => new Thing('Bearer abcdefghijklmnop'),
  () => ({ when: new Date(1000), err: new Error('inner'), buf: Buffer.from('x'), fine: 'ok' }),
  () => Object.freeze({ frozen: 'but not sealed', token: 't' }),
  () => sealForAudit({ sealed: ['x', { password: 'p', note: `has ${JWT}` }], card: { number: '42' } }),
  () => Object.defineProperty({ a: 1 }, 'computed', { get: () => 'constant getter', enumerable: true }),
  () => Object.defineProperty({ a: 1 }, 'hidden', { value: 'not enumerable', enumerable: false }),
  () => new Proxy({ p: 'proxied', password: 'x' }, {}),
  () => Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, i])),
  () => Object.fromEntries(HOSTILE_KEYS.map((k, i) => [k, HOSTILE_STRINGS[i % HOSTILE_STRINGS.length]])),
  () => ({}),
  () => [],
  () => ({ empty: {}, none: [], nested: [{}, [[]]] }),
  () => ({ a: 'first', b: 'second' }),
  () => ({ b: 'second', a: 'first' }),
];
