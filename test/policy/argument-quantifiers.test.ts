import { describe, expect, it } from 'vitest';
import { compileCondition, type Quantifier } from '../../src/policy/compile-condition.js';
import { ConditionSchema } from '../../src/policy/condition-schema.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

const cond = (c: unknown, q: Quantifier) => compileCondition(ConditionSchema.parse(c), q);
const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);
const INTERNAL = '^[a-z.]+@acme\\.example$';

/** A block-by-negated-allowlist and an allow-by-allowlist on the same argument, as finance.yaml had. */
const MAIL = policyFrom(`
version: t
sensitivity: [{ tools: [send_email], level: high, class: outbound }]
rules:
  - { id: block-external, match: { tools: [send_email], arguments: [{ path: [to, cc, bcc], regex: '${INTERNAL}', not: true }] }, action: block }
  - { id: allow-internal, match: { tools: [send_email], arguments: [{ path: [to, cc, bcc], regex: '${INTERNAL}' }] }, action: allow }
`);
const ALLOW_ONLY = policyFrom(`
version: t
sensitivity: [{ tools: [send_email], level: high, class: outbound }]
rules:
  - { id: allow-internal, match: { tools: [send_email], arguments: [{ path: to, regex: '${INTERNAL}' }] }, action: allow }
`);

const mail = (policy: typeof MAIL, args: Record<string, unknown>) =>
  evaluate(policy, { principal: principal(), call: { upstream: 'acme', tool: 'send_email', arguments: args, toolDefinition: READ_ONLY }, signals: signals(), now: NOW });

describe('arguments are read the strict way for the rule action', () => {
  it('blocks an external recipient hidden in an array next to an internal one (negated allowlist)', () => {
    const d = mail(MAIL, { to: ['a@acme.example', 'x@evil.com'] });
    expect(d.action).toBe('block');
    expect(d.rules).toContain('block-external');
    expect(d.rules).not.toContain('allow-internal');
  });
  it('an allow rule does not fire when one of several recipients is external (allow needs every value)', () => {
    const d = mail(ALLOW_ONLY, { to: ['a@acme.example', 'x@evil.com'] });
    expect(d.rules).toEqual([]);
    expect(d.action).toBe('approve');
  });
  it('blocks an external address smuggled in through cc (path list pools argument names)', () => {
    const d = mail(MAIL, { to: 'a@acme.example', cc: 'x@evil.com' });
    expect(d.action).toBe('block');
    expect(d.rules).toEqual(['block-external']);
  });
  it('allows mail whose every recipient is internal', () => {
    const d = mail(MAIL, { to: ['a@acme.example', 'b@acme.example'], cc: 'c@acme.example' });
    expect(d.action).toBe('allow');
    expect(d.rules).toEqual(['allow-internal']);
  });
  it('an allow rule never fires on a missing value or an empty array', () => {
    expect(mail(ALLOW_ONLY, {}).rules).toEqual([]);
    expect(mail(ALLOW_ONLY, { to: [] }).rules).toEqual([]);
  });
});

describe('quantifiers', () => {
  const outside = { path: 'paths', within: ['/w'], not: true };
  const inside = { path: 'paths', within: ['/w'] };
  it.each([
    // [values, block rule "outside /w" fires, allow rule "inside /w" fires]
    [['/w/a', '/etc/x'], true, false],
    [['/w/a', '/w/b'], false, true],
    [[], true, false],
    [undefined, true, false],
  ])('%j: block "outside /w" %s, allow "inside /w" %s', (paths, any, every) => {
    const args = paths === undefined ? {} : { paths };
    expect(cond(outside, 'any')(args)).toBe(any);
    expect(cond(inside, 'every')(args)).toBe(every);
  });
  it('claims keep membership semantics: "in neither group" is not broken by extra groups', () => {
    const neither = cond({ path: 'groups', in: ['support', 'crm'], not: true }, 'set');
    expect(neither({ groups: ['support', 'other'] })).toBe(false);
    expect(neither({ groups: ['other'] })).toBe(true);
    expect(neither({})).toBe(true);
  });
  it('** sees every string at any depth', () => {
    const secret = cond({ path: '**', glob: '**/.ssh/**' }, 'any');
    expect(secret({ a: { b: [{ c: '/home/u/.ssh/id_rsa' }] } })).toBe(true);
    expect(secret({ a: { b: [{ c: '/home/u/notes' }] } })).toBe(false);
  });
  /**
   * `exists` decided on the values found and ignored a search cut short by a bound: the 1001st
   * item's `force` (past the 1000 values a wildcard yields) or a key 40 levels deep was "not
   * there", so a block rule on its presence did not fire and an allow rule on its absence did.
   */
  it('padding cannot hide a key from exists: a search cut short holds for block rules, fails for allow rules', () => {
    const items = [...Array.from({ length: 1000 }, () => ({ id: 1 })), { id: 2, force: true }];
    const present = { path: 'items.*.force', exists: true };
    const absent = { path: 'items.*.force', exists: false };
    expect(cond(present, 'any')({ items })).toBe(true);
    expect(cond(absent, 'every')({ items })).toBe(false);
    expect(cond({ ...present, not: true }, 'every')({ items })).toBe(false);
    let deep: Record<string, unknown> = { force: true };
    for (let i = 0; i < 40; i++) deep = { a: deep };
    expect(cond({ path: '**', exists: true }, 'any')({ deep })).toBe(true);
    // Controls: without the padding the answers are the plain ones.
    const few = [{ id: 1 }, { id: 2 }];
    expect(cond(present, 'any')({ items: few })).toBe(false);
    expect(cond(absent, 'every')({ items: few })).toBe(true);
    expect(cond(present, 'any')({ items: [{ id: 1 }, { force: false }] })).toBe(true);
  });
  /**
   * `contains` on an array looks at its first 1000 items; past them it answered "contains"
   * (restricting rules) or "does not" (allow rules), which a negated rule reads the other way:
   * 1001 items without `approved` passed a block rule "tags do not contain approved", and an
   * `admin` at item 1001 passed an allow rule "tags do not contain admin".
   */
  it('padding an array past the bound cannot answer contains either way for a negated rule', () => {
    const padded = Array.from({ length: 1000 }, () => 'x');
    expect(cond({ path: 'tags', contains: 'approved', not: true }, 'any')({ tags: [...padded, 'y'] })).toBe(true);
    expect(cond({ path: 'tags', contains: 'admin', not: true }, 'every')({ tags: [...padded, 'admin'] })).toBe(false);
    expect(cond({ path: 'tags', contains: 'admin' }, 'every')({ tags: [...padded, 'admin'] })).toBe(false);
    expect(cond({ path: 'tags', contains: 'rm -rf' }, 'any')({ tags: [...padded, 'y'] })).toBe(true);
    // Controls: found in the part looked at, or a short array, the answer is the plain one.
    expect(cond({ path: 'tags', contains: 'approved', not: true }, 'any')({ tags: ['approved', ...padded] })).toBe(false);
    expect(cond({ path: 'tags', contains: 'approved', not: true }, 'any')({ tags: ['a', 'b'] })).toBe(true);
    expect(cond({ path: 'tags', contains: 'admin', not: true }, 'every')({ tags: ['a', 'b'] })).toBe(true);
  });
  it('rejects ** anywhere but the last segment', () => {
    expect(ConditionSchema.safeParse({ path: '**.path', exists: true }).success).toBe(false);
  });
});

describe('case and Windows paths', () => {
  it('blocks an upper-case .SSH/ID_RSA with nocase (case-insensitive file systems)', () => {
    const key = cond({ path: 'path', glob: '**/.ssh/{id_*,*.pem}', nocase: true }, 'any');
    expect(key({ path: '/home/una/.SSH/ID_RSA' })).toBe(true);
    expect(cond({ path: 'path', glob: '**/.ssh/**' }, 'any')({ path: '/home/una/.SSH/ID_RSA' })).toBe(false);
  });
  it('blocks a Windows key path with backslashes, in any case', () => {
    const key = cond({ path: 'path', glob: '**/.ssh/**' }, 'any');
    expect(key({ path: 'C:\\Users\\una\\.ssh\\id_rsa' })).toBe(true);
    expect(key({ path: 'C:\\USERS\\UNA\\.SSH\\ID_RSA' })).toBe(true);
  });
  it('blocks a Windows UNC or device path (\\\\?\\C:\\, \\\\server\\share) in any case, as a drive path', () => {
    // Only `C:\\` paths were matched ignoring case: `\\\\?\\C:\\USERS\\U\\.SSH\\ID_RSA` opens the same
    // key on NTFS, and an SMB share ignores case too, yet a glob without nocase missed them.
    const key = cond({ path: 'path', glob: '**/.ssh/**' }, 'any');
    expect(key({ path: '\\\\?\\C:\\USERS\\U\\.SSH\\ID_RSA' })).toBe(true);
    expect(key({ path: '\\\\.\\C:\\Users\\u\\.Ssh\\id_rsa' })).toBe(true);
    expect(key({ path: '\\\\fileserver\\home\\u\\.SSH\\id_rsa' })).toBe(true);
    // POSIX paths keep their case.
    expect(key({ path: '/home/u/.SSH/id_rsa' })).toBe(false);
  });
  it('contains Windows drive paths ignoring case, and rejects escapes and UNC paths', () => {
    const inside = cond({ path: 'path', within: ['C:\\work'] }, 'every');
    expect(inside({ path: 'c:/WORK/src/a.ts' })).toBe(true);
    expect(inside({ path: 'C:\\work\\..\\Windows\\system32' })).toBe(false);
    expect(inside({ path: '\\\\server\\share\\work' })).toBe(false);
    expect(inside({ path: 'D:\\work\\a' })).toBe(false);
    expect(cond({ path: 'path', within: ['/w'], not: true }, 'any')({ path: 'C:\\w\\x' })).toBe(true);
  });
  it('nocase applies to eq, in and contains', () => {
    expect(cond({ path: 'c', in: ['EUR'], nocase: true }, 'any')({ c: 'eur' })).toBe(true);
    expect(cond({ path: 'c', eq: 'EUR', nocase: true }, 'any')({ c: 'Eur' })).toBe(true);
    expect(cond({ path: 'c', contains: 'DROP', nocase: true }, 'any')({ c: 'x drop y' })).toBe(true);
    expect(cond({ path: 'c', in: ['EUR'] }, 'any')({ c: 'eur' })).toBe(false);
  });
});
