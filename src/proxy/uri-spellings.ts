/**
 * Whether a URI falls under a resource template's fixed part (or names a template), judged over
 * the spellings URL parsers treat as one resource. A held template must not be read around by
 * spelling the URI differently (`FILE:///etc/x`, `file:///%65tc/x`, `file:///tmp/../etc/x`,
 * `file://LOCALHOST/etc/x`): the read would reach the upstream that rewrote the template, and its
 * parser may well resolve it to the same resource. Used only to refuse, so every step widens the
 * match and never narrows it: a URI matches when it matches as written (the old rule) or under any
 * of the canonical spellings below. Over-matching refuses more reads of a held template; an
 * accepted template's match only lets the read go on, so it never lets more through.
 */

/**
 * How dot segments (`.`, `..`) are treated. Resolving them is what most parsers do (RFC 3986
 * §5.2.4), but it can also take a URI out from under a prefix its literal text is under (a parser
 * that resolves nothing serves `a/../b` from under `a/`), so both are tried. `path` resolves the
 * path below the authority (a WHATWG URL keeps its host); `whole` lets `..` climb over the
 * authority as well (a parser that takes `scheme://` off and resolves the rest as a file path).
 */
type Dots = 'kept' | 'path' | 'whole';
/**
 * How a host is spelt: `written` (NFKC-folded and lower-cased, as the rule always read it) or
 * `parsed` (as a WHATWG URL parser reads an http host). Both are tried, each with each treatment
 * of dots: a URI whose host the parser rewrites (`127.1`, `0x7f.0.0.1`, `bücher`) is not under a
 * fixed part that ends inside that host as written (`http://127.1`, which cannot be parsed as a
 * whole host: the URI continues it), so the parsed spelling alone would narrow what the written
 * one matched, and such a URI in upper case would read around the hold.
 */
type Hosts = 'written' | 'parsed';
const DOTS: readonly Dots[] = ['kept', 'path', 'whole'];

/**
 * Most rounds of percent-decoding: double (and triple) encoding is covered, and a URI of nested
 * `%25` costs bounded work.
 */
const DECODE_ROUNDS = 4;

/** One URI's canonical spellings, computed once, to test against many templates. */
export interface UriSpellings {
  /** The URI starts with `prefix` (a template's fixed part) as written or in some canonical spelling. */
  under(prefix: string | Spelt): boolean;
  /** The URI is `other` (a template's `uriTemplate`) as written or in some canonical spelling. */
  same(other: string | Spelt): boolean;
}

/**
 * A template's fixed part (spellPrefix) or uriTemplate (spellWhole) spelt out once: a listing's
 * templates are tested against every read, and spelling each again per read cost about a second
 * per read for an upstream listing 100,000 of them. `forms`: per treatment of dots, the host
 * written then parsed; a parsed form the same as its written one is that very string (compared once).
 */
export interface Spelt {
  readonly raw: string;
  readonly forms: readonly string[];
}

export function spellPrefix(prefix: string): Spelt {
  return { raw: prefix, forms: canonical(prefix, true) };
}

export function spellWhole(other: string): Spelt {
  return { raw: other, forms: canonical(other, false) };
}

/** Canonical spellings of `uri` (see the module comment). */
export function uriSpellings(uri: string): UriSpellings {
  const forms = canonical(uri, false);
  return {
    under: (prefix) => {
      const p = typeof prefix === 'string' ? spellPrefix(prefix) : prefix;
      return uri.startsWith(p.raw) || forms.some((form, i) => !sameAsWritten(forms, p.forms, i) && form.startsWith(p.forms[i]!));
    },
    same: (other) => {
      const o = typeof other === 'string' ? spellWhole(other) : other;
      return uri === o.raw || forms.some((form, i) => !sameAsWritten(forms, o.forms, i) && form === o.forms[i]);
    },
  };
}

/** Form `i` is a parsed host's that neither side spells otherwise than written: compared already. */
function sameAsWritten(a: readonly string[], b: readonly string[], i: number): boolean {
  return i % 2 === 1 && a[i] === a[i - 1] && b[i] === b[i - 1];
}

/**
 * A byte-wise canonical spelling: tabs and line breaks removed and outer spaces and controls
 * trimmed (WHATWG URL does both), backslashes as slashes, percent escapes decoded (invalid ones
 * left as written), ASCII lower-cased, the authority without userinfo and port and NFKC-folded
 * (`file://ＬＯＣＡＬＨＯＳＴ/`), `file://localhost/` as `file:///`, runs of slashes as one, and
 * each treatment of dots with the host written, then parsed (Spelt.forms). `asPrefix`: `s` is a
 * fixed part, which a URI continues, so an escape it ends in the middle of (`%4`) is dropped
 * rather than left undecoded.
 */
function canonical(s: string, asPrefix: boolean): string[] {
  // Bytes as latin1 characters: a multi-byte character and its percent-encoded UTF-8 become the same string.
  const bytes = Buffer.from(trimControls(s.replace(/[\t\n\r]/g, '')).replace(/\\/g, '/'), 'utf8').toString('latin1');
  // Query and fragment begin at the first delimiter as written; an encoded `?` is part of the path.
  const cut = bytes.search(/[?#]/);
  const head = cut < 0 ? bytes : bytes.slice(0, cut);
  const tail = cut < 0 ? '' : bytes.slice(cut);
  const decoded = lowerAscii(decode(head, asPrefix && cut < 0));
  const query = lowerAscii(decode(tail, asPrefix));
  return DOTS.flatMap((dots) => {
    const written = shape(decoded, dots, 'written', asPrefix && cut < 0) + query;
    const parsed = shape(decoded, dots, 'parsed', asPrefix && cut < 0) + query;
    return [written, parsed === written ? written : parsed];
  });
}

/** Scheme, authority and path of a decoded, lower-cased head, as `scheme:/authority/path`. */
function shape(head: string, dots: Dots, hosts: Hosts, asPrefix: boolean): string {
  const parts = /^([a-z][a-z0-9+.-]*):(.*)$/s.exec(head);
  if (!parts) return collapse(head);
  const scheme = parts[1]!;
  const rest = parts[2]!;
  let authority = '';
  let path = rest;
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    const named = end < 0 ? rest.slice(2) : rest.slice(2, end);
    if (scheme === 'file' && WINDOWS_DRIVE.test(named)) {
      // WHATWG reads `file://C:/x` (and `file://C|/x`) as the drive C: of `file:///C:/x`, not a host.
      path = `/${rest.slice(2)}`;
    } else {
      // A fixed part that ends inside its host (`http://10.0`, from `http://10.0.{x}.1/`) is
      // continued by the URI: read as a whole host it would become another address.
      authority = host(scheme, named, hosts === 'written' || (asPrefix && end < 0));
      path = end < 0 ? '' : rest.slice(end);
    }
  } else if (path !== '' && !path.startsWith('/')) path = `/${path}`; // `file:etc/x` is `file:///etc/x` to WHATWG
  path = collapse(path);
  // WHATWG writes a file URL's drive `C|` as `C:`: `file:///C|/x` is `file:///C:/x`.
  if (scheme === 'file') path = path.replace(LEGACY_DRIVE, '/$1:');
  if (dots === 'path') path = removeDotSegments(path);
  // `file:/x`, `file:///x` and `file:////x` are one resource; `docs://files/x` and `docs:/files/x`
  // are spelt alike too (over-matching, which only refuses more).
  const whole = collapse(`/${authority}${path}`);
  return `${scheme}:${dots === 'whole' ? removeDotSegments(whole) : whole}`;
}

/** A Windows drive letter (lower-cased) where a file URL's host would be: `c:` or the legacy `c|`. */
const WINDOWS_DRIVE = /^[a-z][:|]$/;
/** A file URL path whose first segment is a drive in the legacy spelling `c|`. */
const LEGACY_DRIVE = /^\/([a-z])\|(?=\/|$)/;

/**
 * The host an authority names: no userinfo, no port, NFKC-folded and lower-cased, and, unless it
 * is kept `asWritten` (the written spelling, or a fixed part ending inside it), as a WHATWG URL parser reads an http host:
 * IPv4 in any of its numeric spellings as a dotted quad (`127.1`, `0x7f.0.0.1`, `2130706433`),
 * IPv6 compressed (`[0:0::1]` → `[::1]`), international names in punycode; and without one
 * trailing dot (`example.com.` names the same DNS name). A host that parser refuses is kept as
 * written.
 */
function host(scheme: string, authority: string, asWritten: boolean): string {
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1).replace(/:[0-9]*$/, '');
  const text = Buffer.from(hostPort, 'latin1').toString('utf8').normalize('NFKC').toLowerCase();
  const name = asWritten ? text : asHttpHost(text);
  const folded = Buffer.from(name, 'utf8').toString('latin1');
  return scheme === 'file' && folded === 'localhost' ? '' : folded;
}

/** Hosts repeat across a listing's templates and every spelling of a URI: parsed once each (bounded). */
const httpHosts = new Map<string, string>();
const HTTP_HOSTS_MAX = 4096;

function asHttpHost(text: string): string {
  if (text === '') return text;
  let name = httpHosts.get(text);
  if (name === undefined) {
    name = parseHttpHost(text);
    if (httpHosts.size >= HTTP_HOSTS_MAX) httpHosts.clear();
    httpHosts.set(text, name);
  }
  return name;
}

function parseHttpHost(text: string): string {
  let name = text;
  try {
    name = new URL(`http://${text}/`).hostname;
  } catch {
    // Not a host an http URL may have: compared as written.
  }
  return name.length > 1 && name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Percent escapes decoded, round after round until none is left or DECODE_ROUNDS. */
function decode(bytes: string, asPrefix: boolean): string {
  let s = bytes;
  for (let round = 0; round < DECODE_ROUNDS; round++) {
    if (asPrefix) s = withoutPartialEscape(s);
    const next = s.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === s) break;
    s = next;
  }
  return asPrefix ? withoutPartialEscape(s) : s;
}

/**
 * A prefix ending in `%` or `%4` is cut there: the URI continuing it completes the escape, which
 * decodes to a character the prefix would not have.
 */
function withoutPartialEscape(s: string): string {
  let end = s.length;
  for (;;) {
    if (end >= 1 && s[end - 1] === '%') end -= 1;
    else if (end >= 2 && s[end - 2] === '%' && /[0-9a-fA-F]/.test(s[end - 1]!)) end -= 2;
    else return s.slice(0, end);
  }
}

/** Without leading and trailing controls and spaces (by index: a regex anchored at the end is quadratic on long runs). */
function trimControls(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

function collapse(path: string): string {
  return path.replace(/\/{2,}/g, '/');
}

/** RFC 3986 §5.2.4 for a path that is empty or starts with `/` (runs of slashes already collapsed). */
function removeDotSegments(path: string): string {
  if (path === '') return path;
  const input = path.split('/').slice(1);
  const out: string[] = [];
  for (const [i, segment] of input.entries()) {
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      // `/a/b/..` is `/a/`: a dot segment at the end leaves its directory's slash.
      if (i === input.length - 1) out.push('');
    } else out.push(segment);
  }
  return `/${out.join('/')}`;
}
