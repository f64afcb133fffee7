import { describe, expect, it } from 'vitest';
import { uriSpellings } from '../../src/proxy/uri-spellings.js';

/**
 * A held resource template claims the URIs under its fixed part; a URI spelt differently from the
 * fixed part but read as the same resource by the upstream's URL parser must still be claimed, or
 * the read goes around the hold. Over-matching only refuses more, so the table leans that way;
 * the clean cases check it does not claim what is plainly another resource.
 */
const HELD = 'file:///etc/';
const under = (uri: string, prefix = HELD) => uriSpellings(uri).under(prefix);

describe('uriSpellings: a URI spelt differently is still under a held template\'s fixed part', () => {
  it.each([
    ['scheme in upper case', 'FILE:///etc/x'],
    ['path in upper case', 'file:///ETC/x'],
    ['percent-encoded unreserved characters', 'file:///%65tc/x'],
    ['percent-encoded in upper-case hex', 'file:///%65%54C/x'],
    ['double percent-encoding', 'file:///%2565tc/x'],
    ['triple percent-encoding', 'file:///%252565tc/x'],
    ['encoded slash', 'file://%2Fetc/x'],
    ['dot-dot segment climbing into the prefix', 'file:///tmp/../etc/x'],
    ['dot segment', 'file:///./etc/x'],
    ['encoded dot-dot segment', 'file:///tmp/%2e%2E/etc/x'],
    ['dot-dot behind an encoded question mark (a delimiter only when written)', 'file:///tmp%3F/../etc/x'],
    ['dot-dot climbing above the root', 'file:///../../etc/x'],
    ['host localhost', 'file://localhost/etc/x'],
    ['host localhost in upper case', 'file://LOCALHOST/etc/x'],
    ['host localhost in fullwidth letters (NFKC)', 'file://ＬＯＣＡＬＨＯＳＴ/etc/x'],
    ['host localhost with userinfo and port', 'file://user@localhost:8/etc/x'],
    ['backslashes as slashes', 'file:\\\\\\etc\\x'],
    ['repeated slashes', 'file:////etc//x'],
    ['a single slash after the scheme', 'file:/etc/x'],
    ['no slash after the scheme', 'file:etc/x'],
    ['tab and newline inside (WHATWG URL drops them)', 'file:///e\tt\nc/x'],
    ['leading and trailing spaces and controls', ' \u0000file:///etc/x \u0001'],
    ['a literal URI as before', 'file:///etc/passwd'],
  ])('claims %s: %s', (_, uri) => {
    expect(under(uri)).toBe(true);
  });

  it('claims an authority spelt differently under a non-file scheme (host case, port, userinfo)', () => {
    expect(under('DOCS://Files/notes.txt', 'docs://files/')).toBe(true);
    expect(under('docs://files:443/notes.txt', 'docs://files/')).toBe(true);
    expect(under('docs://someone@files/notes.txt', 'docs://files/')).toBe(true);
    // WHATWG keeps the host: `..` does not climb out of it, but the path is read from under it.
    expect(under('DOCS://files/a/../../secret/x', 'docs://files/secret/')).toBe(true);
  });

  it.each([
    ['IPv4 with its last parts merged', 'http://127.1/admin/x'],
    ['IPv4 in hex', 'http://0x7f.0.0.1/admin/x'],
    ['IPv4 in octal', 'http://0177.0.0.1/admin/x'],
    ['IPv4 as one number', 'http://2130706433/admin/x'],
    ['IPv4 percent-encoded', 'http://%31%32%37.0.0.1/admin/x'],
  ])('claims a host spelt as another form of the same address (%s): %s', (_, uri) => {
    expect(under(uri, 'http://127.0.0.1/admin/')).toBe(true);
  });

  it('claims IPv6 written uncompressed, a DNS name with its trailing dot, and an international name in either form', () => {
    expect(under('http://[0:0:0:0:0:0:0:1]/admin/x', 'http://[::1]/admin/')).toBe(true);
    expect(under('https://Internal.Example./admin/x', 'https://internal.example/admin/')).toBe(true);
    expect(under('https://bücher.example/a', 'https://xn--bcher-kva.example/')).toBe(true);
    expect(under('https://xn--bcher-kva.example/a', 'https://bücher.example/')).toBe(true);
  });

  it('another address or name stays another host', () => {
    expect(under('http://127.0.0.2/admin/x', 'http://127.0.0.1/admin/')).toBe(false);
    expect(under('http://127.2/admin/x', 'http://127.0.0.1/admin/')).toBe(false);
    expect(under('https://internal.example.org/admin/x', 'https://internal.example/admin/')).toBe(false);
  });

  it('a fixed part ending inside its host is not read as a whole address (it is continued by the URI)', () => {
    expect(under('http://10.0.5.1/x', 'http://10.0')).toBe(true);
    expect(under('HTTP://10.0.5.1/x', 'http://10.0')).toBe(true);
    expect(under('http://example.com/x', 'http://example.')).toBe(true);
  });

  it.each([
    ['numeric IPv4 shorthand', 'HTTP://127.1/admin', 'http://127.1'],
    ['hex IPv4', 'HTTP://0X7F.0.0.1/admin', 'http://0x7f'],
    ['international name', 'HTTPS://bücher.example/x', 'https://bücher.example'],
    ['uncompressed IPv6', 'HTTP://[0:0::1]/x', 'http://[0:0::1]'],
  ])('reading a host as an http parser does never narrows the old rule: a held fixed part ending inside a %s host still claims the URI in upper case', (_, uri, prefix) => {
    // Matched under the plain spelling (lower-cased, host as written) before hosts were parsed:
    // the parsed spelling is an extra chance to match, never a replacement for that one.
    expect(under(uri, prefix)).toBe(true);
  });

  it('claims a URI whose literal text is under the prefix even when its dot segments resolve elsewhere (a parser that resolves nothing)', () => {
    expect(under('FILE:///etc/pass%2F..%2Fx', 'file:///etc/pass')).toBe(true);
    expect(under('FILE:///etc/../x')).toBe(true);
  });

  it('a prefix ending inside a percent escape is cut there, not left undecoded', () => {
    expect(under('FILE:///a%41b', 'file:///a%4')).toBe(true);
    expect(under('FILE:///a%41b', 'file:///a%')).toBe(true);
    expect(under('FILE:///a%2541b', 'file:///a%25')).toBe(true);
  });

  it('matches a prefix with a query: the query is compared decoded and lower-cased, not resolved', () => {
    expect(under('DOCS://files/x?ID=%35', 'docs://files/x?id=')).toBe(true);
    expect(under('docs://files/x?id=/../y', 'docs://files/x?id=/../')).toBe(true);
  });

  it('an empty fixed part (a catch-all template `{+uri}`) claims every URI', () => {
    expect(under('anything:at/all', '')).toBe(true);
  });
});

describe('uriSpellings: clean cases are not claimed by an unrelated template', () => {
  it.each([
    ['another directory', 'file:///tmp/x'],
    ['a sibling whose name starts the same', 'file:///etcetera/x'],
    ['the directory itself without its slash', 'file:///etc'],
    ['another scheme', 'https://example.com/etc/x'],
    ['a dot-dot climbing out of another directory', 'file:///var/%2e%2e/tmp/x'],
    ['an invalid escape left as written', 'file:///%zz/etc/x'],
    ['another host', 'file://server/etc/x'],
  ])('does not claim %s: %s', (_, uri) => {
    expect(under(uri)).toBe(false);
  });

  it('does not claim another host of a non-file scheme, nor a URI with userinfo that names another host', () => {
    expect(under('docs://other/notes.txt', 'docs://files/')).toBe(false);
    expect(under('docs://files@other/notes.txt', 'docs://files/')).toBe(false);
    expect(under('docs://files.example/x', 'docs://files/')).toBe(false);
  });
});

describe('uriSpellings: a completion names a held template however it is spelt', () => {
  it('the same uriTemplate in another spelling is the same template', () => {
    expect(uriSpellings('DOCS://files/{path}').same('docs://files/{path}')).toBe(true);
    expect(uriSpellings('docs://files/%7Bpath%7D').same('docs://files/{path}')).toBe(true);
    expect(uriSpellings('docs://files/./{path}').same('docs://files/{path}')).toBe(true);
    expect(uriSpellings('docs://files/{path}').same('docs://files/{path}')).toBe(true);
  });

  it('another template is not the same, even when one covers the other', () => {
    expect(uriSpellings('docs://files/sub/{path}').same('docs://files/{path}')).toBe(false);
    expect(uriSpellings('docs://files/{name}').same('docs://files/{path}')).toBe(false);
  });
});

describe('uriSpellings: bounded work on hostile input', () => {
  it('a long run of spaces, percent signs or nested escapes is judged in linear time', () => {
    const started = performance.now();
    expect(under(`file:///a${' '.repeat(200_000)}b`, `file:///a${' '.repeat(200_000)}`)).toBe(true);
    expect(under('file:///x', `file:///${'%'.repeat(200_000)}`)).toBe(true);
    expect(under(`file:///${'%25'.repeat(100_000)}`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('uriSpellings: a Windows drive spelt the legacy way is the same drive (WHATWG file URLs)', () => {
  it.each([
    ['drive with a bar', 'file:///C|/secret/x'],
    ['drive letter where the host goes', 'file://C:/secret/x'],
    ['drive with a bar where the host goes', 'file://C|/secret/x'],
    ['drive with a bar, no slashes', 'file:C|/secret/x'],
    ['drive with a bar, one slash, lower case', 'file:/c|/secret/x'],
  ])('claims %s (%s), as new URL() reads it: file:///C:/secret/x', (_, uri) => {
    expect(new URL(uri).href.toLowerCase()).toBe('file:///c:/secret/x');
    expect(under(uri, 'file:///C:/secret/')).toBe(true);
  });

  it('does not make a host of another scheme, nor a longer first segment, a drive', () => {
    expect(under('docs://c|/secret/x', 'docs:///c:/secret/')).toBe(false);
    expect(under('file:///cd|/secret/x', 'file:///C:/secret/')).toBe(false);
  });
});
