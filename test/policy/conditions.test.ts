import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../src/policy/compile-condition.js';
import { ConditionSchema } from '../../src/policy/condition-schema.js';
import { normalisePath, withinVerdict } from '../../src/policy/path-containment.js';

/** Certainly inside: every reading of the path is (a value not judged is not inside). */
const isWithin = (p: string, roots: readonly string[]): boolean => withinVerdict(p, roots) === true;
import { valuesAt } from '../../src/policy/safe-access.js';

const cond = (c: unknown) => compileCondition(ConditionSchema.parse(c));
/** As an allow rule reads it: every value must pass. */
const every = (c: unknown) => compileCondition(ConditionSchema.parse(c), 'every');

describe('path containment', () => {
  const rows: [string, boolean][] = [
    ['/data', true],
    ['/data/', true],
    ['/data/a/b.txt', true],
    ['/data/./a', true],
    ['/data/a/../b', true],
    ['/data/../etc/passwd', false],
    ['/data2', false],
    ['/data2/x', false],
    ['/datafile', false],
    ['data/x', false],
    ['./data/x', false],
    ['/data/../data2/x', false],
    ['\\data\\..\\etc', false],
    ['/data\\..\\etc', false],
    ['file:///data/x', true],
    ['file:///data/../etc', false],
    ['/data/x\u0000/../../etc', false],
    ['//data/x', true],
    ['/etc', false],
    ['', false],
  ];
  it.each(rows)('%j inside /data: %s', (p, inside) => {
    expect(isWithin(p, ['/data'])).toBe(inside);
  });
  it('path traversal with .. does not escape containment', () => {
    expect(cond({ path: 'path', within: ['/data'] })({ path: '/data/../../etc/shadow' })).toBe(false);
  });
  it('a prefix sibling (/data2) is not inside /data', () => {
    expect(cond({ path: 'path', within: ['/data'] })({ path: '/data2/secret' })).toBe(false);
  });
  it('a ./ or ../ segment does not sidestep a path glob (picomatch skips dot segments)', () => {
    const git = cond({ path: 'path', glob: '**/.git/**' });
    expect(git({ path: '/w/./.git/hooks/x' })).toBe(true);
    expect(git({ path: '/w/a/../.git/config' })).toBe(true);
    expect(git({ path: '/w\\.git\\config' })).toBe(true);
    const inside = cond({ path: 'path', glob: '/w/**', not: true });
    expect(inside({ path: '/w/../etc/passwd' })).toBe(true);
    expect(cond({ path: 'u', glob: 'https://*.example/**' })({ u: 'https://a.example/x' })).toBe(true);
  });
  it('Windows names a drive path as Win32 does: no alternate data stream or trailing dot sidesteps a glob or root', () => {
    const aws = cond({ path: 'path', glob: '**/.aws/credentials' });
    expect(aws({ path: 'C:\\Users\\u\\.aws\\credentials::$DATA' })).toBe(true);
    expect(aws({ path: 'C:\\Users\\u\\.aws\\credentials.' })).toBe(true);
    expect(aws({ path: 'C:\\Users\\u\\.aws.\\credentials ' })).toBe(true);
    expect(normalisePath('C:\\Users\\U\\.SSH.\\id_rsa:hidden')).toBe('/c:/users/u/.ssh/id_rsa');
    // On POSIX a trailing dot is part of the name: another file, left as it is.
    expect(aws({ path: '/home/u/.aws/credentials.' })).toBe(false);
    expect(normalisePath('/home/u/creds.')).toBe('/home/u/creds.');
  });
  /**
   * NTFS gives a long name an 8.3 short name (`.aws` is `AWS~1`, `credentials` `CREDEN~1`), and
   * Win32 opens a file by either: `C:\Users\u\AWS~1\CREDEN~1` is `.aws\credentials`, which no
   * glob for `.aws` matches. Which long name a short one stands for is not in the string, so a
   * drive path with a short-name segment is not judged by a glob: block rules hold, allow rules fail.
   */
  it('a Windows 8.3 short name does not sidestep a glob for the long name', () => {
    const aws = cond({ path: 'path', glob: '**/.aws{,/**}', nocase: true });
    expect(aws({ path: 'C:\\Users\\u\\AWS~1\\CREDEN~1' })).toBe(true);
    expect(aws({ path: 'c:/users/u/aws~1/config' })).toBe(true);
    expect(aws({ path: 'file:///C:/Users/u/AWS~12' })).toBe(true);
    expect(every({ path: 'path', glob: 'C:/work/**', nocase: true })({ path: 'C:\\work\\DOCUME~1.TXT' })).toBe(false);
    // Controls: long names are judged as before; on POSIX `~1` is part of a name; `within` is
    // unaffected (a short name names something in the same folder).
    expect(aws({ path: 'C:\\Users\\u\\Documents\\notes.txt' })).toBe(false);
    expect(every({ path: 'path', glob: 'C:/work/**', nocase: true })({ path: 'C:\\work\\notes~draft.txt' })).toBe(true);
    expect(aws({ path: '/home/u/backup~1/config' })).toBe(false);
    expect(every({ path: 'path', within: ['C:\\work'] })({ path: 'C:\\work\\DOCUME~1\\x.txt' })).toBe(true);
  });
  /**
   * A `file:` URL was read by stripping `file://`, but a server reads it as a URL: `?` and `#`
   * end the path and `%2e%2e` is `..`. So `file:///etc/passwd?/../../data/x` was inside /data
   * to warden and /etc/passwd to `new URL` / fileURLToPath, and `%2Essh` dodged a glob for .ssh.
   */
  it('a file URL is judged as a URL reader reads it too: query, fragment and percent-escapes', () => {
    const inside = every({ path: 'p', within: ['/data'] });
    const outside = cond({ path: 'p', within: ['/data'], not: true });
    for (const p of ['file:///etc/passwd?/../../data/x', 'file:///etc/passwd#/../../data/x', 'file:///data/%2e%2e/etc/passwd', 'file:///data/.%2E/etc/passwd']) {
      expect(inside({ p })).toBe(false);
      expect(outside({ p })).toBe(true);
    }
    const ssh = cond({ path: 'p', glob: '**/.ssh{,/**}', nocase: true });
    expect(ssh({ p: 'file:///home/u/%2Essh/id_rsa' })).toBe(true);
    expect(ssh({ p: 'FILE:///home/u/%2Essh/id_rsa' })).toBe(true);
    // A malformed escape elsewhere does not make a lenient decoder's reading disappear.
    expect(ssh({ p: 'file:///home/u/%2Essh/id_rsa%ZZ' })).toBe(true);
    expect(ssh({ p: 'file:///home/u/x?/../../.ssh/id_rsa' })).toBe(true);
    // Controls: a URL whose readings agree is judged as before.
    expect(inside({ p: 'file:///data/a%20b.txt' })).toBe(true);
    expect(inside({ p: 'file:///data/x' })).toBe(true);
    expect(ssh({ p: 'file:///home/u/notes.txt' })).toBe(false);
    expect(every({ path: 'p', glob: '/data/**' })({ p: 'file:///data/a%20b.txt' })).toBe(true);
  });
  /**
   * A web URL was matched as written, but the client that fetches it normalises it first (WHATWG
   * URL): the host is lower-cased, `..` and `%2e%2e` segments are resolved. So
   * `https://api.example/public/%2e%2e/admin/x` passed an allow glob for `/public/**` and
   * `https://API.example/admin/x` or `…/public/../admin/x` slipped a block glob for `/admin/**`.
   */
  it('a web URL is also judged in the form a URL client fetches', () => {
    const admin = cond({ path: 'u', glob: 'https://api.example/admin/**' });
    const publicOnly = every({ path: 'u', glob: 'https://api.example/public/**' });
    for (const u of ['https://api.example/public/../admin/x', 'https://api.example/public/%2e%2e/admin/x', 'https://API.example/admin/x', 'HTTPS://api.example/admin/x']) {
      expect(admin({ u })).toBe(true);
      expect(publicOnly({ u })).toBe(false);
    }
    // Controls: a URL already in normal form is judged as before.
    expect(publicOnly({ u: 'https://api.example/public/x' })).toBe(true);
    expect(admin({ u: 'https://api.example/public/x' })).toBe(false);
    expect(every({ path: 'u', glob: 'https://*.example/**' })({ u: 'https://a.example/x?q=1' })).toBe(true);
  });
  it('overlong paths cannot be judged and are outside', () => {
    expect(normalisePath(`/data/${'a'.repeat(10_000)}`)).toBeUndefined();
  });
  it('a negated containment holds for missing and non-string values (fail safe)', () => {
    const outside = cond({ path: 'path', within: ['/data'], not: true });
    expect(outside({})).toBe(true);
    expect(outside({ path: 42 })).toBe(true);
    expect(outside({ path: ['/data/x'] })).toBe(false);
  });
});

describe('operators', () => {
  const rows: [string, unknown, unknown, boolean][] = [
    ['eq string', { path: 'a', eq: 'x' }, { a: 'x' }, true],
    ['eq number matches numeric string', { path: 'a', eq: 5 }, { a: '5' }, true],
    ['eq string literal matches the number that spells it', { path: 'a', eq: '5' }, { a: 5 }, true],
    ['eq string literal does not match another number', { path: 'a', eq: '5' }, { a: 6 }, false],
    ['in set', { path: 'a', in: ['x', 'y'] }, { a: 'y' }, true],
    ['in over array items', { path: 'g', in: ['admin'] }, { g: ['dev', 'admin'] }, true],
    ['gt', { path: 'n', gt: 10 }, { n: 11 }, true],
    ['gt on numeric string', { path: 'n', gt: 10 }, { n: ' 11 ' }, true],
    ['gt on non-number', { path: 'n', gt: 10 }, { n: 'eleven' }, false],
    ['gt on Infinity spelled out: Number() reads it, so a restricting condition holds', { path: 'n', gt: 10 }, { n: 'Infinity' }, true],
    ['lte', { path: 'n', lte: 10 }, { n: 10 }, true],
    ['regex', { path: 's', regex: '^rm\\b' }, { s: 'rm -rf /' }, true],
    ['regex with flags', { path: 's', regex: '^RM', flags: 'i' }, { s: 'rm' }, true],
    ['glob', { path: 'to', glob: '*@acme.example' }, { to: 'a@acme.example' }, true],
    ['glob no match', { path: 'to', glob: '*@acme.example' }, { to: 'a@acme.example.evil.com' }, false],
    ['contains in array', { path: 'g', contains: 'x' }, { g: ['y', 'x'] }, true],
    ['contains substring', { path: 's', contains: 'DROP' }, { s: 'x; DROP TABLE' }, true],
    ['exists', { path: 'a.b', exists: true }, { a: { b: null } }, true],
    ['exists false', { path: 'a.b', exists: false }, { a: {} }, true],
    ['nested index', { path: 'items.1.id', eq: 7 }, { items: [{ id: 1 }, { id: 7 }] }, true],
    ['wildcard any', { path: 'items.*.id', eq: 7 }, { items: [{ id: 1 }, { id: 7 }] }, true],
    ['not', { path: 'a', eq: 'x', not: true }, { a: 'y' }, true],
    ['missing value', { path: 'a', eq: 'x' }, {}, false],
  ];
  it.each(rows)('%s', (_n, c, args, want) => {
    expect(cond(c)(args)).toBe(want);
  });
});

describe('untrusted arguments are data', () => {
  it('__proto__ key cannot pollute prototypes', () => {
    const args = JSON.parse('{"__proto__": {"polluted": true, "role": "admin"}, "a": 1}') as Record<string, unknown>;
    expect(cond({ path: '__proto__.role', eq: 'admin' })(args)).toBe(true);
    expect(cond({ path: 'role', eq: 'admin' })(args)).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
  it('constructor and prototype keys are never resolved through the prototype chain', () => {
    expect(valuesAt({}, ['constructor'])).toEqual([]);
    expect(valuesAt({}, ['constructor', 'prototype'])).toEqual([]);
    expect(valuesAt({}, ['__proto__'])).toEqual([]);
    expect(valuesAt({ constructor: 'x' }, ['constructor'])).toEqual(['x']);
    expect(valuesAt([], ['length'])).toEqual([]);
  });
  it('a null-prototype object is read safely', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.a = 1;
    expect(cond({ path: 'a', eq: 1 })(o)).toBe(true);
  });
  it('huge arrays are examined only up to the item cap', () => {
    const items = Array.from({ length: 100_000 }, (_, i) => ({ id: i }));
    expect(valuesAt({ items }, ['items', '*', 'id']).length).toBe(1000);
  });
  it('a value hidden past the item cap still trips a restricting condition, and never satisfies an allow', () => {
    const paths = [...Array.from({ length: 5000 }, (_, i) => `/workspace/f${i}`), '/home/u/.ssh/id_rsa'];
    expect(compileCondition(ConditionSchema.parse({ path: 'paths', glob: '**/.ssh/**' }), 'any')({ paths })).toBe(true);
    expect(compileCondition(ConditionSchema.parse({ path: 'paths', within: ['/workspace'] }), 'every')({ paths })).toBe(false);
    let deep: unknown = '/home/u/.ssh/id_rsa';
    for (let i = 0; i < 100; i++) deep = { a: deep };
    expect(compileCondition(ConditionSchema.parse({ path: '**', regex: 'nothing-here' }), 'any')({ deep })).toBe(true);
  });
  it('deep nesting only follows the configured path (depth bounded by the schema)', () => {
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(cond({ path: 'a.a.a', exists: true })(deep)).toBe(true);
    expect(() => ConditionSchema.parse({ path: Array(17).fill('a').join('.'), exists: true })).toThrow();
  });
  it('huge strings: a regex examines a bounded prefix; what it cannot see fires a restricting rule, never an allow', () => {
    const s = `${'a'.repeat(1_000_000)}SECRET`;
    // A block rule whose match could hide past the prefix fires (the agent chose the length).
    expect(cond({ path: 's', regex: 'SECRET' })({ s })).toBe(true);
    expect(cond({ path: 's', regex: '^a' })({ s })).toBe(true);
    // An allow rule needs every value judged: an unjudged one is not allowed.
    expect(every({ path: 's', regex: 'SECRET' })({ s })).toBe(false);
    expect(every({ path: 's', regex: '^a' })({ s })).toBe(true);
  });
  it('a block rule is not sidestepped by padding past the length a glob, regex or root can check', () => {
    const key = `/home/u/${'./'.repeat(2100)}.ssh/id_rsa`;
    expect(cond({ path: 'path', glob: '**/.ssh/**' })({ path: key })).toBe(true);
    expect(cond({ path: 'path', within: ['/home/u/.ssh'] })({ path: key })).toBe(true);
    const body = `Hi\n${'x'.repeat(4100)} ssn 123-45-6789`;
    expect(cond({ path: 'body', regex: '\\b\\d{3}-\\d{2}-\\d{4}\\b' })({ body })).toBe(true);
    // ... and an allow rule does not allow what it could not check.
    expect(every({ path: 'path', within: ['/home'] })({ path: key })).toBe(false);
  });
  it('an array wrapped in an array is looked into (a block rule on a path is not hidden by [[...]])', () => {
    expect(cond({ path: 'path', glob: '/etc/**' })({ path: [['/etc/shadow']] })).toBe(true);
    expect(cond({ path: 'path', glob: '/etc/**' })({ path: [[[['/etc/shadow']]]] })).toBe(true);
    expect(every({ path: 'path', glob: '/w/**' })({ path: [['/w/a'], '/w/b'] })).toBe(true);
    expect(every({ path: 'path', glob: '/w/**' })({ path: [['/w/a'], ['/etc/x']] })).toBe(false);
  });
  it('contains in a restricting rule also looks inside array items (["rm -rf /"] still contains "rm -rf")', () => {
    expect(cond({ path: 'command', contains: 'rm -rf' })({ command: ['rm -rf /'] })).toBe(true);
    expect(cond({ path: 'command', contains: 'rm -rf' })({ command: [['ls', 'rm -rf /']] })).toBe(true);
    // An allow rule keeps the strict reading: an array contains an equal item.
    expect(every({ path: 'tags', contains: 'safe' })({ tags: ['unsafe'] })).toBe(false);
    expect(every({ path: 'tags', contains: 'safe' })({ tags: ['safe'] })).toBe(true);
  });
  it('wildcards over objects only visit own properties', () => {
    const proto = { inherited: 'admin' };
    const obj = Object.create(proto) as Record<string, unknown>;
    obj.own = 'user';
    expect(valuesAt({ o: obj }, ['o', '*'])).toEqual(['user']);
  });
});

describe('relative paths that climb out with ..', () => {
  // picomatch never lets `**` match a `..` segment, and a leading `..` cannot be resolved: the
  // filesystem server resolves `../una/.ssh/id_rsa` against its root, so it names a key.
  const keys = { path: 'path', glob: '**/{.ssh/**,id_rsa*,.aws/credentials}', nocase: true };
  it.each(['../una/.ssh/id_rsa', '../../home/una/.aws/credentials', 'x/../../una/.SSH/config', '..\\una\\.ssh\\id_rsa'])(
    'a block rule glob still matches %s',
    (path) => {
      expect(cond(keys)({ path })).toBe(true);
      // ...and an allow rule cannot rely on it (neither reading is certain).
      expect(every(keys)({ path })).toBe(false);
    },
  );
  it('a negated glob cannot be dodged with .. either (no loosening)', () => {
    const outsidePublic = { path: 'path', glob: '**/public/**', not: true };
    expect(cond(outsidePublic)({ path: '../public/x' })).toBe(true);
    expect(every(outsidePublic)({ path: '../public/x' })).toBe(false);
  });
  it('relative paths that both readings agree on are judged as before', () => {
    expect(cond(keys)({ path: '../notes/todo.md' })).toBe(false);
    expect(every({ path: 'path', glob: '**/*.md' })({ path: 'docs/a.md' })).toBe(true);
    expect(cond({ path: 'path', glob: '/workspace/**' })({ path: '../workspace/x' })).toBe(false);
  });
});

describe('Unicode-equivalent spellings of a path', () => {
  // The filesystem server opens `Geha\u0308lter` (decomposed) as the folder `Gehälter` when only
  // that one exists, and macOS file systems do the same: a glob must not be dodged by it.
  const nfc = '/srv/Geh\u00E4lter/2026.xlsx';
  const nfd = '/srv/Geha\u0308lter/2026.xlsx';
  const payroll = { path: 'path', glob: '/srv/Geh\u00E4lter/**' };
  it('a block rule glob holds for the decomposed spelling', () => {
    expect(cond(payroll)({ path: nfc })).toBe(true);
    expect(cond(payroll)({ path: nfd })).toBe(true);
  });
  it('an allow rule does not rely on either reading', () => {
    expect(every(payroll)({ path: nfc })).toBe(true);
    expect(every(payroll)({ path: nfd })).toBe(false);
    expect(every({ ...payroll, not: true })({ path: nfd })).toBe(false);
  });
});

describe('Unicode-equivalent spellings of a compared string (eq, in, contains, regex)', () => {
  // A payee, folder or account name sent decomposed (NFD) is the same name to most tools; a block
  // rule written with the precomposed (NFC) name must not be dodged by the other spelling.
  const nfc = 'Geh\u00E4lter';
  const nfd = 'Geha\u0308lter';
  const rows: Array<[string, Record<string, unknown>, unknown]> = [
    ['eq', { path: 'payee', eq: nfc }, nfd],
    ['eq with nocase', { path: 'payee', eq: nfc.toUpperCase(), nocase: true }, nfd],
    ['in', { path: 'payee', in: ['Other', nfc] }, nfd],
    ['contains (substring)', { path: 'payee', contains: nfc }, `Konto ${nfd} 2026`],
    ['contains (array item)', { path: 'payee', contains: nfc }, ['x', nfd]],
    ['regex', { path: 'payee', regex: `^${nfc}$` }, nfd],
  ];
  it.each(rows)('a block rule with %s holds for the decomposed spelling (dodging a blocked name by decomposing it)', (_, c, value) => {
    expect(cond(c)({ payee: value })).toBe(true);
  });
  it.each(rows)('an allow rule with %s does not rely on either reading', (_, c, value) => {
    expect(every(c)({ payee: value })).toBe(false);
  });
  it('a policy literal written decomposed still blocks the precomposed spelling', () => {
    expect(cond({ path: 'payee', eq: nfd })({ payee: nfc })).toBe(true);
    expect(cond({ path: 'payee', in: [nfd] })({ payee: nfc })).toBe(true);
  });
  it('a negated block (allowlist by not) is not passed by the other spelling either', () => {
    // "block unless the payee is Gehälter": the decomposed spelling is not read as the allowed one.
    expect(cond({ path: 'payee', eq: nfc, not: true })({ payee: nfd })).toBe(true);
  });
  it('spellings that agree are judged as before', () => {
    expect(cond({ path: 'payee', eq: nfc })({ payee: nfc })).toBe(true);
    expect(every({ path: 'payee', eq: nfc })({ payee: nfc })).toBe(true);
    expect(cond({ path: 'payee', eq: nfc })({ payee: 'Gehalt' })).toBe(false);
    expect(cond({ path: 'payee', eq: 'caf\u00E9' })({ payee: 'cafe' })).toBe(false);
  });
});

describe('a POSIX absolute path with backslashes', () => {
  // `/workspace\evil` is `\workspace\evil` on the current drive to Windows, but to a POSIX server
  // it is the file `workspace\evil` in `/`, outside /workspace: an allowlist must not take it in.
  it('an allow rule with within does not take /workspace\\x for a path inside /workspace (writing beside the root by a backslash)', () => {
    expect(every({ path: 'path', within: ['/workspace'] })({ path: '/workspace\\evil.sh' })).toBe(false);
    expect(every({ path: 'path', within: ['/workspace'] })({ path: '/workspace/ok.sh' })).toBe(true);
  });
  it('an allow rule with a glob does not either', () => {
    expect(every({ path: 'path', glob: '/workspace/**' })({ path: '/workspace\\evil.sh' })).toBe(false);
  });
  it('a block rule still holds for the Windows reading', () => {
    expect(cond({ path: 'path', within: ['/etc'] })({ path: '/etc\\passwd' })).toBe(true);
    expect(cond({ path: 'path', glob: '**/.ssh/**' })({ path: '/home/u\\.ssh\\id_rsa' })).toBe(true);
  });
  it('readings that agree are judged as before', () => {
    expect(cond({ path: 'path', within: ['/etc'] })({ path: '/srv\\x' })).toBe(false);
    expect(every({ path: 'path', within: ['/'] })({ path: '/a\\b' })).toBe(true);
  });
});

describe('a file URL whose two readings disagree, under a block rule with within', () => {
  // Stripping `file://` reads `file:///data/%2e%2e/etc/passwd` as a path under /data; a server
  // that parses the URL opens /etc/passwd. A rule blocking /etc must hold for it.
  it.each([
    'file:///data/%2e%2e/etc/passwd',
    'file:///etc/shadow?/../../data/x',
    'FILE:///data/%2E%2E/etc/passwd',
  ])('a block rule within /etc holds for %s (reaching /etc through a URL spelling)', (p) => {
    expect(cond({ path: 'path', within: ['/etc'] })({ path: p })).toBe(true);
  });
  it('an allow rule within /data does not take them in either', () => {
    expect(every({ path: 'path', within: ['/data'] })({ path: 'file:///data/%2e%2e/etc/passwd' })).toBe(false);
    expect(every({ path: 'path', within: ['/data'] })({ path: 'file:///data/x.txt' })).toBe(true);
  });
  it('readings that agree are judged as before', () => {
    expect(cond({ path: 'path', within: ['/etc'] })({ path: 'file:///data/x.txt' })).toBe(false);
  });
});

describe('a path with a NUL byte is not judged by a glob', () => {
  // A reader that takes the path as a C string (a C or C++ server, a library handing it to
  // open(2) unchecked) stops at the NUL: `/etc/shadow\0.txt` opens /etc/shadow.
  const shadow = cond({ path: 'path', glob: '/etc/shadow' });
  const keys = cond({ path: 'path', glob: '**/id_rsa', nocase: true });
  it('blocks a blocked file with a NUL and a harmless suffix appended', () => {
    expect(shadow({ path: '/etc/shadow' })).toBe(true);
    expect(shadow({ path: '/etc/shadow\u0000.txt' })).toBe(true);
    expect(keys({ path: '/home/u/.ssh/id_rsa\u0000.pub' })).toBe(true);
  });
  it('an allow glob does not take a path with a NUL, as within does not', () => {
    expect(every({ path: 'path', glob: '/workspace/**' })({ path: '/workspace/x\u0000/../../etc/shadow' })).toBe(false);
    expect(every({ path: 'path', glob: '/workspace/**' })({ path: '/workspace/x' })).toBe(true);
  });
});
