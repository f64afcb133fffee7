import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../src/identity/duration.js';
import { findDuplicateKey } from '../../src/identity/json-duplicates.js';
import { IDENTITY_REASON_CODES } from '../../src/identity/reason-codes.js';
import { protectedResourceMetadataPath, protectedResourceMetadataUrl, wwwAuthenticate } from '../../src/identity/www-authenticate.js';

describe('reason codes', () => {
  it('documents every reason code in the README', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const missing = IDENTITY_REASON_CODES.filter((code) => !doc.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });
});

describe('duplicate member detection', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"x":1},{"x":2}]', undefined],
    ['{"a":"\\"a\\"","b":["a","a"]}', undefined],
    ['{"\\u0061":1,"a":2}', 'a'],
    ['{"a":{"c":1},"b":{"c":1}}', undefined],
  ])('%s → %s', (text, dup) => {
    expect(findDuplicateKey(text)).toBe(dup);
  });
});

describe('durations', () => {
  it.each([[30, 30], ['30', 30], ['30s', 30], ['15m', 900], ['1h', 3600], ['2d', 172800], ['500ms', 0.5], ['soon', undefined], [-1, undefined]])(
    '%s → %s',
    (input, seconds) => expect(parseDurationSeconds(input)).toBe(seconds),
  );
});

describe('WWW-Authenticate', () => {
  it('inserts the well-known segment before the resource path (RFC 9728)', () => {
    expect(protectedResourceMetadataPath('https://w.test/mcp')).toBe('/.well-known/oauth-protected-resource/mcp');
    expect(protectedResourceMetadataUrl('https://w.test')).toBe('https://w.test/.well-known/oauth-protected-resource');
  });
  it('strips quotes, backslashes and control characters from descriptions', () => {
    const h = wwwAuthenticate('https://w.test/m', { kind: 'invalid_token', description: 'bad "x"\\\r\n' });
    expect(h).toBe('Bearer resource_metadata="https://w.test/m", error="invalid_token", error_description="bad x"');
  });
});
