/** Shared redaction rules: what counts as a secret key, a secret value, and a policy path. */

import { boundedReplace, timedReplace } from './bounded-replace.js';

export const REDACTED = '[REDACTED]';
/** Deeper values are cut (`[TRUNCATED]`): audit data is never unbounded or cyclic. */
export const MAX_DEPTH = 32;

/**
 * Keys whose values are never written, whatever the policy says. Matched on the key lowercased
 * with `-`, `_` and spaces removed, by suffix: `apiKey`, `x-api-key`, `db_password`, `idToken`,
 * `secretKey`, and the plurals (`secrets`, `passwords`) that hold several (but not `maxTokens`,
 * a count, or `tokenId`).
 */
const SENSITIVE_KEY =
  /(?:(?:password|passwd|passphrase|secret|secretkey|apikey|cookie|privatekey|credential|accesskey|sessionkey)s?|token|authorization)$/;

/** Values that look like credentials, wherever they appear in a string. */
export const BUILTIN_VALUE_PATTERNS: readonly string[] = [
  // JWT / JWS compact serialisation, starting where a run of base64url characters starts: a start
  // at every `eyJ` inside one run rescanned the rest of the run each time (quadratic: 5 s on 80 KB)
  String.raw`(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`,
  // HTTP bearer / basic credentials. The scheme name is case-insensitive (RFC 9110 §11.1):
  // `BEARER x` and `BASIC x` are sent and accepted; spelled letter by letter as the joined
  // pattern has no `i` flag (the other patterns are case-sensitive).
  String.raw`\b(?:[Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc])\s+[A-Za-z0-9._~+/-]{8,}=*`,
  // AWS access key ids
  String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
  // PEM private keys (terminated or cut off)
  String.raw`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[^]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`,
  // GitHub, Slack, OpenAI-style and Stripe-style tokens
  String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`,
  String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`,
  String.raw`\b(?:sk|rk)[-_](?:live_|test_)?[A-Za-z0-9_-]{20,}`,
];

/**
 * Credentials inside URLs (`scheme://user:pass@host`); only tried on strings containing `://`.
 * Read as a URL parser (WHATWG, fetch) reads the authority: the user name may be empty
 * (`redis://:pass@host`, how Redis URLs carry a password alone) and the password runs to the
 * last `@` before the path (`user:p@ss@host` is password `p@ss`). A user name required and the
 * password cut at the first `@` left the first whole and the second's tail in clear. `/`, `?`,
 * `#` and whitespace end the authority, so a match never runs past the next `://`: linear.
 */
const URL_CREDENTIALS = /(?<=:\/\/)[^/?#\s:@]*:[^/?#\s]+(?=@)/g;
/**
 * Credentials in query strings and fragments (`?api_key=…`, `&access_token=…`, `#id_token=…`,
 * `?key=…`, `&X-Amz-Signature=…`): the value of a parameter whose name says key, token, secret,
 * password, signature, credential or auth. Names that merely contain those words (`monkey`) are
 * redacted too: over-redaction fails safe, and the digest still identifies the whole value.
 * Only tried on strings holding `=` and one of `?&;#`; the name is bounded against backtracking.
 * The value is not: nothing follows it in the pattern, so it never backtracks, and a bound (4,096)
 * left the rest of a longer token in clear after the `[REDACTED]`.
 */
const QUERY_CREDENTIALS = /([?&;#][\w.~-]{0,40}?(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|key|sig(?:nature)?|credential|auth)[\w.~-]{0,40}=)[^&#\s"'<>]+/gi;
const QUERY_REPLACEMENT = `$1${REDACTED}`;
/** Every built-in value pattern needs at least this many characters to match. */
const BUILTIN_MIN_LENGTH = 8;
const BUILTIN_RE = new RegExp(BUILTIN_VALUE_PATTERNS.map((p) => `(?:${p})`).join('|'), 'g');
const BUILTIN_TEST = new RegExp(BUILTIN_RE.source);

export interface RedactRules {
  /** Key paths: `password` (any depth), `card.number` (from the root), `*.secret`, `**.token`. */
  readonly paths?: readonly string[];
  /** Regexes applied to every string value. */
  readonly patterns?: readonly string[];
}

/**
 * Replaces credential-looking substrings; short strings skip the built-in scan (they cannot match).
 * Configured patterns (audit config and policy files) each stay a regex of their own, applied in
 * turn: joined into one alternation, two that name a group alike (each valid alone) made the
 * redactor throw on the first call, which blocked every call, and a numbered backreference
 * would have pointed into another pattern's groups.
 */
export function stringScrubber(patterns: readonly string[]): (s: string) => string {
  const user = patterns.map((p) => new RegExp(p, 'g'));
  return (s) => {
    let out = s;
    if (out.length >= BUILTIN_MIN_LENGTH) {
      if (BUILTIN_TEST.test(out)) out = out.replace(BUILTIN_RE, REDACTED);
      if (out.includes('://')) out = out.replace(URL_CREDENTIALS, REDACTED);
      if (out.includes('=') && /[?&;#]/.test(out)) out = out.replace(QUERY_CREDENTIALS, QUERY_REPLACEMENT);
    }
    // replace() with a global regex starts at 0 and returns the same string when nothing matches.
    // Configured patterns are the operator's: on a long string one runs under a time limit, and
    // a string it cannot finish is redacted whole (bounded-replace.ts).
    for (const re of user) {
      if (out.length <= PATTERN_DIRECT_UP_TO && !slowPatterns.has(re)) {
        const direct = timedReplace(re, out, REDACTED);
        if (direct === undefined) {
          warnCutOnce(re.source, out.length);
          return REDACTED;
        }
        // Slow on a short string: the load probe missed it. Bounded from now on, whatever the length.
        if (direct.slow) slowPatterns.add(re);
        out = direct.out;
        continue;
      }
      const replaced = boundedReplace(re, out, REDACTED);
      if (replaced === undefined) {
        warnCutOnce(re.source, out.length);
        return REDACTED;
      }
      out = replaced;
    }
    return out;
  };
}

/**
 * Strings up to this length go through configured patterns directly: the load check
 * (pattern-probe.ts) measured each pattern on strings this long.
 */
const PATTERN_DIRECT_UP_TO = 4096;
/** Configured patterns seen slow on a short string (see timedReplace): always run bounded. */
const slowPatterns = new WeakSet<RegExp>();
const cutPatterns = new Set<string>();

/** Tells the operator once per pattern that it ran out of time and whole strings are being redacted. */
function warnCutOnce(source: string, length: number): void {
  if (cutPatterns.has(source)) return;
  cutPatterns.add(source);
  process.emitWarning(
    `redaction pattern ${JSON.stringify(source)} did not finish on a ${length}-character string within its time limit (or the time allowed to slow patterns was spent); ` +
      'such strings are written as [REDACTED] whole (their digest is kept). Make the pattern linear: let a match start only at a bounded number of places.',
    { code: 'WARDEN_REDACTION_PATTERN_SLOW' },
  );
}

type PathPattern = readonly string[];

/**
 * `*` is one key, or nothing: array indices are not in the path, so in the condition-path
 * spelling `edits.*.newText` (every edit's newText, as a policy condition reads it) the `*`
 * stands for an array level that the path does not show. Read as "exactly one key" it never
 * matched `edits[].newText` and the text an edit writes reached the audit file. Matching a
 * key path one level shorter only ever redacts more.
 */
function matchPath(pattern: PathPattern, path: readonly string[], pi = 0, ki = 0): boolean {
  if (pi === pattern.length) return ki === path.length;
  const seg = pattern[pi];
  if (seg === '**') {
    for (let k = ki; k <= path.length; k++) if (matchPath(pattern, path, pi + 1, k)) return true;
    return false;
  }
  if (seg === '*' && matchPath(pattern, path, pi + 1, ki)) return true;
  if (ki === path.length) return false;
  return (seg === '*' || seg === path[ki]) && matchPath(pattern, path, pi + 1, ki + 1);
}

export interface KeyMatcher {
  (path: readonly string[]): boolean;
  /** Set when no policy paths exist: the decision depends on the key name alone. */
  keyOnly?: ((key: string) => boolean) | undefined;
}

/**
 * Decides whether the value at `path` (keys from the root, array indices skipped; the last
 * element is the key being asked about) must be redacted.
 */
export function keyMatcher(paths: readonly string[]): KeyMatcher {
  // A bare key (`password`) matches at any depth; dotted paths are anchored at the root.
  const compiled: PathPattern[] = paths.map((p) => (p.includes('.') ? p.split('.') : ['**', p]));
  const cache = new Map<string, boolean>();
  const sensitive = (key: string): boolean => {
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = SENSITIVE_KEY.test(key.toLowerCase().replace(/[-_ ]/g, ''));
      // Keys repeat across records; a bounded cache keeps the hot path to one map lookup.
      if (cache.size < 4096) cache.set(key, hit);
    }
    return hit;
  };
  const matcher = (path: readonly string[]): boolean =>
    sensitive(path[path.length - 1] as string) || (compiled.length > 0 && compiled.some((p) => matchPath(p, path)));
  // Without policy paths only the key name matters: callers can skip building the path.
  matcher.keyOnly = compiled.length === 0 ? sensitive : undefined;
  return matcher;
}
