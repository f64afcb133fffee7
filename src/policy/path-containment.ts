import { posix } from 'node:path';
import { MAX_STRING } from './safe-access.js';

/** `C:\…` or `C:/…` (after `file:///C:/…` lost its scheme and leading slash). */
const DRIVE = /^\/?([A-Za-z]):\//;

/**
 * Brings a path into one comparable shape: backslashes count as separators, a `file://` prefix
 * is removed, and a Windows drive path (`C:\Users\x`, `c:/users/x`, `file:///C:/x`) becomes
 * `/c:/users/x`, lower-cased because Windows paths are case-insensitive. Returns undefined for
 * what cannot be judged: UNC and device paths (`\\server\share`, `\\?\C:\`), drive-relative
 * (`C:x`) and relative paths, NUL bytes, overlong strings.
 */
function canonicalForm(raw: string): string | undefined {
  if (raw.length > MAX_STRING || raw.includes('\0')) return undefined;
  // A UNC or device path names another machine or namespace: no root here can contain it.
  if (raw.startsWith('\\\\')) return undefined;
  let p = raw.replace(/\\/g, '/');
  if (p.startsWith('file://')) p = p.slice('file://'.length);
  const drive = DRIVE.exec(p);
  if (drive) p = win32Names(`/${(drive[1] as string).toLowerCase()}:/${p.slice(drive[0].length)}`.toLowerCase());
  if (!p.startsWith('/')) return undefined;
  return p;
}

/**
 * The names Windows itself uses for the segments of a drive path (`/c:/a/b`, slashes already):
 * Win32 drops trailing dots and spaces (`.ssh.\` is `.ssh\`, `credentials.` is `credentials`)
 * and `name:stream` or `name::$DATA` opens the file `name`. Without this, `credentials::$DATA`
 * or `.ssh.` read the file a policy names while its glob or root does not match. Only for drive
 * paths: on POSIX those are other names.
 */
function win32Names(p: string): string {
  const parts = p.split('/');
  // parts[0] is '' (leading slash) or the drive; the drive segment itself keeps its colon.
  const driveAt = parts[0] === '' ? 1 : 0;
  for (let i = driveAt + 1; i < parts.length; i++) {
    const seg = parts[i] as string;
    if (seg === '.' || seg === '..') continue;
    const colon = seg.indexOf(':');
    const name = (colon === -1 ? seg : seg.slice(0, colon)).replace(/[. ]+$/, '');
    parts[i] = name === '' ? '.' : name;
  }
  return parts.join('/');
}

/** An 8.3 short name: up to six characters, `~`, a number, and an extension of up to three. */
const SHORT_NAME = /(?:^|\/)[^/~]{0,6}~\d+(?:\.[^/.]{0,3})?(?:\/|$)/;

/**
 * True when a Windows drive path (its glob subject, slashes already) has a segment that may be an
 * 8.3 short name (`AWS~1` for `.aws`, `CREDEN~1` for `credentials`). Win32 opens a file by its
 * short name too, and which long name it stands for is not in the string, so a glob cannot judge
 * such a path. Containment can: a short name names something in the same folder.
 */
export function hasShortNameSegment(subject: string): boolean {
  return SHORT_NAME.test(subject);
}

/** True when a (raw) path is a Windows drive path, whose comparisons ignore case. */
export function isWindowsDrivePath(raw: string): boolean {
  return /^(file:\/\/\/?)?[A-Za-z]:[\\/]/.test(raw);
}

/**
 * True for a path Windows resolves ignoring case: a drive path, or a UNC or device path
 * (`\\server\share\…`, `\\?\C:\…`, `\\.\C:\…`: NTFS and SMB shares ignore case too). Only
 * backslash-led ones: `//x` is an ordinary (case-sensitive) path to a POSIX server.
 */
export function isWindowsPath(raw: string): boolean {
  return isWindowsDrivePath(raw) || raw.startsWith('\\\\');
}

/**
 * Normalises a path for containment checks, or returns undefined when it cannot be judged
 * (see canonicalForm). `.` and `..` are resolved, so neither can smuggle a path past the check.
 */
export function normalisePath(raw: string): string | undefined {
  const p = canonicalForm(raw);
  if (p === undefined) return undefined;
  const normal = posix.normalize(p);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * What a glob sees: a path-like string (contains a slash or backslash, and is not a URL other
 * than file://) is normalised first, so `/w/./.git/x` and `/w/a/../.git/x` match a glob for
 * `.git` directories and `/w/../etc` does not match a glob for `/w`. picomatch never lets `*` or
 * `**` match `.` or `..` segments, so without this a block rule could be sidestepped with `./`.
 * Backslashes become slashes, so `C:\Users\u\.ssh\id_rsa` matches `**\/.ssh/**`.
 * Other strings (e-mail addresses, names, URLs) are unchanged.
 */
export function globSubject(raw: string): string {
  let p = raw.startsWith('file://') ? raw.slice('file://'.length) : raw;
  if (p.includes('://') || (!p.includes('/') && !p.includes('\\'))) return raw;
  p = p.replace(/\\/g, '/');
  if (isWindowsDrivePath(raw)) p = win32Names(p);
  p = posix.normalize(p);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/**
 * A POSIX absolute path with backslashes (`/workspace\x`) is read two ways: Windows takes `\`
 * for a separator (`/workspace/x`, on the current drive), a POSIX server for an ordinary
 * character (the file `workspace\x` in `/`, outside `/workspace`). This is its POSIX reading,
 * with each backslash as U+FFFD (a character no separator logic or glob treats specially); the
 * callers judge the value only when both readings agree. Undefined for every other string.
 */
export function posixBackslashReading(raw: string): string | undefined {
  return raw.startsWith('/') && raw.includes('\\') ? raw.replace(/\\/g, '\uFFFD') : undefined;
}

/** A `.` or `..` segment: between separators, or at either end. */
const DOT_SEGMENT = /(?:^|[\\/])\.{1,2}(?:[\\/]|$)/;

/**
 * globSubject leaves a string holding `://` as it is (a URL keeps its double slash), but a
 * filesystem server resolves any string as a path: to path.resolve `/home/u/x://../.ssh/id_rsa`
 * is `/home/u/.ssh/id_rsa`. For such a string with `.` or `..` segments this is its reading as
 * a path (normalised as globSubject normalises paths); undefined for every other string.
 */
export function pathReadingOfUrlLike(raw: string): string | undefined {
  const p = raw.startsWith('file://') ? raw.slice('file://'.length) : raw;
  if (!p.includes('://') || !DOT_SEGMENT.test(p)) return undefined;
  const normal = posix.normalize(p.replace(/\\/g, '/'));
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * Normalises a configured root once at load time (`/data`, `C:\work`, `c:/work`), in Unicode
 * NFC: paths are also read in NFC (withinVerdict), so a root written decomposed still holds.
 */
export function normaliseRoot(root: string, nocase = false): string {
  const normal = (normalisePath(root) ?? root).normalize('NFC');
  return nocase ? normal.toLowerCase() : normal;
}

/**
 * How a URL reader (`new URL`, fileURLToPath) reads a `file://` string: `?` and `#` end the path,
 * percent-escapes are decoded and `%2e%2e` is a `..` segment. Stripping `file://` reads
 * `file:///etc/passwd?/../../data/x` as `/data/x` and `file:///data/%2e%2e/etc` as inside
 * `/data`, where a server that parses the URL opens `/etc/passwd`. Undefined for a string that
 * does not start with `file://` or that a URL reader refuses.
 */
export function fileUrlReading(raw: string): string | undefined {
  // The scheme in any case: URL readers accept `FILE://` too.
  if (!/^file:\/\//i.test(raw) || raw.length > MAX_STRING) return undefined;
  let pathname: string;
  try {
    pathname = new URL(raw).pathname;
  } catch {
    return undefined;
  }
  try {
    return decodeURIComponent(pathname);
  } catch {
    // A malformed escape (`%ZZ`): a lenient decoder still decodes the valid ASCII ones (`%2E`).
    return pathname.replace(/%([0-7][0-9A-Fa-f])/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

/** Schemes whose URLs a WHATWG URL client normalises before fetching (file: has its own reading). */
const WEB_URL = /^(?:https?|wss?|ftp):/i;

/**
 * A web URL as a URL client fetches it (`new URL(raw).href`): scheme and host lower-cased, `..`
 * and `%2e%2e` segments resolved, `\` read as `/`. A glob matched against the string as written
 * let `https://api.example/public/%2e%2e/admin` pass a rule for `/public/**` and
 * `https://API.example/admin` slip one for `/admin/**`. Undefined when there is no other reading.
 */
export function webUrlReading(raw: string): string | undefined {
  if (!WEB_URL.test(raw) || raw.length > MAX_STRING) return undefined;
  try {
    const href = new URL(raw).href;
    return href === raw ? undefined : href;
  } catch {
    return undefined;
  }
}

/**
 * One reading of a path names a root itself or something below it after normalisation:
 * `/data/../etc` is not inside `/data`, and `/data2` is not inside `/data`. A path that cannot be
 * normalised is never inside anything (fail safe). With `nocase` the roots must have been
 * normalised with `nocase` too.
 */
function withinOne(raw: string, roots: readonly string[], nocase: boolean): boolean {
  let p = normalisePath(raw);
  if (p === undefined) return false;
  if (nocase) p = p.toLowerCase();
  for (const root of roots) {
    if (root === '/') return true;
    if (p === root || p.startsWith(`${root}/`)) return true;
  }
  return false;
}

/**
 * Containment as a condition judges it: true or false when every reading of `raw` agrees
 * (withinOne of each), and undefined when they do not (the value is then not judged: block / approve / throttle conditions
 * hold, `allow` conditions fail). The readings: the path as written (a `file://` prefix
 * stripped), a `file://` URL as a URL reader reads it (`file:///data/%2e%2e/etc/passwd` is
 * `/etc/passwd` to a server that parses it, though it looks inside `/data`: a block rule for
 * `/etc` must still hold), a POSIX absolute path's backslashes as ordinary characters, and each
 * of these in Unicode NFC.
 */
export function withinVerdict(raw: string, roots: readonly string[], nocase = false): boolean | undefined {
  const inside = withinOne(raw, roots, nocase);
  const readings: string[] = [];
  if (/^file:\/\//i.test(raw)) {
    const url = fileUrlReading(raw);
    // A file URL no URL reader accepts: nobody knows what a server makes of it.
    if (url === undefined) return undefined;
    readings.push(url);
  }
  const posix = posixBackslashReading(raw);
  if (posix !== undefined) readings.push(posix);
  for (const reading of [raw, ...readings]) {
    // A decomposed name (`Geha\u0308lter`) is the precomposed folder to the filesystem server
    // and macOS, as globs already read it: also judged in NFC (the roots are in NFC).
    const nfc = NON_ASCII.test(reading) ? reading.normalize('NFC') : reading;
    if (reading !== raw && withinOne(reading, roots, nocase) !== inside) return undefined;
    if (nfc !== reading && withinOne(nfc, roots, nocase) !== inside) return undefined;
  }
  return inside;
}

const NON_ASCII = /[^\x00-\x7f]/;
