import { describe, expect, it } from 'vitest';
import { createArgsEncoder } from '../../src/audit/args-encoder.js';
import { createCanonicalRedactor } from '../../src/audit/redact-canonical.js';
import { createRedactor, REDACTED } from '../../src/audit/redactor.js';
import { sinkRedactRules } from '../../src/audit/start-audit-sink.js';
import { digestOf } from '../../src/core/canonical-json.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
const PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----';

describe('createRedactor', () => {
  const redact = createRedactor();

  it('removes values of sensitive keys at any depth, whatever their casing or separators', () => {
    const { redacted } = redact({
      password: 'hunter2', nested: { 'X-Api-Key': 'k1', db_password: 'p', idToken: 't', Authorization: 'a' },
      list: [{ client_secret: 's' }, { cookie: 'c' }], private_key: 'pk', tokenId: 'jti-1', maxTokens: 5,
    });
    expect(redacted).toEqual({
      password: REDACTED, nested: { 'X-Api-Key': REDACTED, db_password: REDACTED, idToken: REDACTED, Authorization: REDACTED },
      list: [{ client_secret: REDACTED }, { cookie: REDACTED }], private_key: REDACTED, tokenId: 'jti-1', maxTokens: 5,
    });
  });

  it('removes values of secret keys named secretKey or in the plural (secrets, passwords, apiKeys)', () => {
    const { redacted } = redact({
      secretKey: 'minio-secret', secret_key: 'django-secret', SECRETS: { db: 'hunter2' }, passwords: ['a', 'b'], apiKeys: ['k'],
      maxTokens: 5, tokens: 12, keys: ['id'], processes: 3,
    });
    expect(redacted).toEqual({
      secretKey: REDACTED, secret_key: REDACTED, SECRETS: REDACTED, passwords: REDACTED, apiKeys: REDACTED,
      maxTokens: 5, tokens: 12, keys: ['id'], processes: 3,
    });
  });

  it('removes credential-looking values inside strings (JWT, bearer, AWS key, PEM, URL credentials)', () => {
    const { redacted } = redact({
      a: `token is ${JWT} ok`, b: 'Authorization: Bearer abcdefghijklmnop123', c: 'key AKIAIOSFODNN7EXAMPLE here',
      d: `x ${PEM} y`, e: 'https://bob:s3cretpw@db.example.com/x', f: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    });
    const text = JSON.stringify(redacted);
    for (const secret of [JWT, 'abcdefghijklmnop123', 'AKIAIOSFODNN7EXAMPLE', 'MC4CAQAw', 's3cretpw', 'ghp_abc']) {
      expect(text).not.toContain(secret);
    }
    expect((redacted as { a: string }).a).toBe(`token is ${REDACTED} ok`);
    expect((redacted as { e: string }).e).toBe(`https://${REDACTED}@db.example.com/x`);
  });

  it('removes Bearer and Basic credentials whatever the case of the scheme name (BEARER, bEaReR, BASIC)', () => {
    const { redacted } = redact({
      a: 'Authorization: BEARER abcdefghijklmnop123', b: 'Proxy-Authorization: bEaReR abcdefghijklmnop123', c: 'Authorization: BASIC dXNlcjpwYXNzd29yZA==',
    });
    expect(redacted).toEqual({ a: `Authorization: ${REDACTED}`, b: `Proxy-Authorization: ${REDACTED}`, c: `Authorization: ${REDACTED}` });
  });

  it('credential leak through a URL: a password with no user name (redis://:pw@) or holding an @ is removed whole', () => {
    const { redacted } = redact({
      a: 'redis://:hunter2-cache@cache.internal:6379/0',
      b: 'connect https://:s3cret-only-pw@db.example/x now',
      c: 'https://alice:p@ss@w0rd@db.example/x',
      d: 'https://alice:tail@pw@db.example and mail bob@example.com',
      e: 'see https://maps.example/a@b and https://host:8080/path@x',
    });
    const r = redacted as Record<string, string>;
    // What a URL parser (WHATWG, as in fetch) takes as the password is never left in clear.
    expect(new URL('redis://:hunter2-cache@cache.internal:6379/0').password).toBe('hunter2-cache');
    expect(new URL('https://alice:p@ss@w0rd@db.example/x').password).toBe('p%40ss%40w0rd');
    expect(r.a).toBe(`redis://${REDACTED}@cache.internal:6379/0`);
    expect(r.b).toBe(`connect https://${REDACTED}@db.example/x now`);
    expect(r.c).toBe(`https://${REDACTED}@db.example/x`);
    expect(r.d).toBe(`https://${REDACTED}@db.example and mail bob@example.com`);
    // No credentials there: a path holding @ and a port are kept.
    expect(r.e).toBe('see https://maps.example/a@b and https://host:8080/path@x');
  });

  it('credential leak through a URL: query and fragment credentials are removed, other parameters kept', () => {
    const { redacted } = redact({
      a: 'fetch https://maps.example/api?q=berlin&key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY&page=2',
      b: 'https://idp.example/cb#access_token=opaque-at-1234567890&state=xyz',
      c: 'https://s3.example/obj?X-Amz-Credential=AKID%2F2026&X-Amz-Signature=abcdef0123456789',
      d: 'curl "https://api.example/v1/users?api_key=s3cr3t-v4lue-99"',
      e: 'https://shop.example/search?q=monkey&sort=price&page=2',
    });
    const r = redacted as Record<string, string>;
    expect(r.a).toBe(`fetch https://maps.example/api?q=berlin&key=${REDACTED}&page=2`);
    expect(r.b).toBe(`https://idp.example/cb#access_token=${REDACTED}&state=xyz`);
    expect(r.c).toBe(`https://s3.example/obj?X-Amz-Credential=${REDACTED}&X-Amz-Signature=${REDACTED}`);
    expect(r.d).toBe(`curl "https://api.example/v1/users?api_key=${REDACTED}"`);
    expect(r.e).toBe('https://shop.example/search?q=monkey&sort=price&page=2');
  });

  it('credential leak through a URL: a query credential longer than 4,096 characters is redacted whole, not its head only', () => {
    const token = `${'A'.repeat(4096)}TAIL-OF-THE-TOKEN`;
    const { redacted } = redact({ u: `https://api.example/cb?access_token=${token}&state=xyz` });
    expect((redacted as { u: string }).u).toBe(`https://api.example/cb?access_token=${REDACTED}&state=xyz`);
  });

  it('applies policy paths: bare keys anywhere, dotted paths from the root, * and ** wildcards', () => {
    const r = createRedactor({ paths: ['ssn', 'card.number', '*.pin', '**.deep'] });
    const { redacted } = r({ ssn: '1', x: { ssn: '2' }, card: { number: '4111', exp: '12/30' }, number: 'kept', a: { pin: '9' }, b: { c: { pin: 'kept' } }, q: { w: { e: { deep: 'x' } } } });
    expect(redacted).toEqual({ ssn: REDACTED, x: { ssn: REDACTED }, card: { number: REDACTED, exp: '12/30' }, number: 'kept', a: { pin: REDACTED }, b: { c: { pin: 'kept' } }, q: { w: { e: { deep: REDACTED } } } });
  });

  it('redacts edits.*.newText in every item of an array (the * spelling of a policy condition path); no edit text slips through', () => {
    const rules = { paths: ['edits.*.newText'] };
    const args = { path: '/w/a', edits: [{ oldText: 'a', newText: 'secret-one' }, { oldText: 'b', newText: 'secret-two' }], newText: 'top' };
    expect(createRedactor(rules)(args).redacted).toEqual({ path: '/w/a', edits: [{ oldText: 'a', newText: REDACTED }, { oldText: 'b', newText: REDACTED }], newText: 'top' });
    const line = createCanonicalRedactor(sinkRedactRules({ ...rules, patterns: [] }))(args, 'args');
    expect(line).not.toContain('secret-');
    const encoded = createArgsEncoder(rules, { paths: [], patterns: [] })(args);
    expect(JSON.stringify(createCanonicalRedactor({})(encoded.field, 'args'))).not.toContain('secret-');
  });

  it('applies policy regex patterns to string values', () => {
    const r = createRedactor({ patterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'] });
    expect(r({ note: 'ssn 123-45-6789 end' }).redacted).toEqual({ note: `ssn ${REDACTED} end` });
  });

  it('keeps the digest of the full, unredacted value so records can be compared', () => {
    const a = redact({ password: 'one', q: 1 });
    const b = redact({ password: 'two', q: 1 });
    expect(a.redacted).toEqual(b.redacted);
    expect(a.digest).not.toBe(b.digest);
    expect(a.digest).toBe(digestOf({ password: 'one', q: 1 }));
  });

  it('treats __proto__ in data as a plain key and never touches prototypes', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true,"password":"p"},"a":1}') as Record<string, unknown>;
    const { redacted } = redact(input);
    expect(Object.keys(redacted as object)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((redacted as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(redacted)).toBe('{"__proto__":{"polluted":true,"password":"[REDACTED]"},"a":1}');
  });

  it('survives cycles, bigints, non-finite numbers, dates and buffers without throwing', () => {
    const cyc: Record<string, unknown> = { n: NaN, big: 10n, d: new Date(0), buf: Buffer.from('abc') };
    cyc.self = cyc;
    const out = redact(cyc);
    expect(out.redacted).toEqual({ n: null, big: '10', d: '1970-01-01T00:00:00.000Z', buf: '[3 bytes]', self: '[TRUNCATED]' });
    expect(out.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('createCanonicalRedactor (the sink hot path)', () => {
  it('produces exactly the canonical JSON of what createRedactor returns, for varied data', async () => {
    const { canonicalJson } = await import('../../src/core/canonical-json.js');
    const { escapeUnsafeJson } = await import('../../src/audit/escape-unsafe.js');
    const { rng, int } = await import('./audit-test-helpers.js');
    const rules = { paths: ['card.number', '*.pin'], patterns: ['SSN-\\d+'] };
    const objRedact = createRedactor(rules);
    const canonRedact = createCanonicalRedactor(rules);
    const leaves = ['x', 'Bearer abcdefghijkl', JWT, 'SSN-42', '\u202e', 1.5, -0, 1e21, NaN, true, null, undefined, 10n, new Date(0)];
    for (let seed = 1; seed <= 200; seed++) {
      const rand = rng(seed);
      const gen = (depth: number): unknown => {
        const r = rand();
        if (depth > 3 || r < 0.4) return leaves[int(rand, 0, leaves.length - 1)];
        if (r < 0.6) return Array.from({ length: int(rand, 0, 3) }, () => gen(depth + 1));
        const o: Record<string, unknown> = {};
        for (const k of ['card', 'number', 'pin', 'password', 'b', 'a', '__proto__', 'é'].slice(0, int(rand, 0, 8))) {
          Object.defineProperty(o, k, { value: gen(depth + 1), enumerable: true, configurable: true, writable: true });
        }
        return o;
      };
      const value = gen(0);
      expect(canonRedact(value, 'field'), `seed ${seed}`).toBe(
        (canonicalJson((objRedact({ field: value }).redacted as Record<string, unknown>).field ?? null) === 'null' && value === undefined)
          ? undefined
          : escapeUnsafeJson(canonicalJson((objRedact({ field: value }).redacted as Record<string, unknown>).field)),
      );
    }
  });
});

describe('createCanonicalRedactor (regressions)', () => {
  it('writes holes of sparse arrays as null, so the record stays JSON and verifies', async () => {
    const { decodeRecord, encodeRecord, GENESIS_HASH } = await import('../../src/audit/record-codec.js');
    const serialize = createCanonicalRedactor();
    const { line } = encodeRecord({ type: 'x', a: [1, , 3] }, { seq: 1, ts: 't', prev: GENESIS_HASH }, serialize);
    expect(line).toContain('"a":[1,null,3]');
    expect(decodeRecord(line.trimEnd()).kind).toBe('ok');
  });

  it('keeps redacting by root-anchored path after a walk was cut short by a throwing getter', async () => {
    const serialize = createCanonicalRedactor({ paths: ['args.card.number'] });
    const hostile = { get boom(): never { throw new Error('getter'); } };
    expect(() => serialize({ nested: hostile }, 'args')).toThrow('getter');
    expect(serialize({ card: { number: '4111' } }, 'args')).toBe(`{"card":{"number":"${REDACTED}"}}`);
  });
});
