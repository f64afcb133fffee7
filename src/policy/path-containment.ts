import { posix } from 'node:path';
import { MAX_STRING } from './safe-access.js';

/**
 * Normalises a path for containment checks, or returns undefined when it cannot be judged
 * (relative, NUL byte, too long). Backslashes count as separators and a `file://` prefix is
 * removed, so neither can smuggle `..` past the check.
 */
export function normalisePath(raw: string): string | undefined {
  if (raw.length > MAX_STRING || raw.includes('\0')) return undefined;
  let p = raw.replace(/\\/g, '/');
  if (p.startsWith('file://')) p = p.slice('file://'.length);
  if (!p.startsWith('/')) return undefined;
  const normal = posix.normalize(p);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * What a glob sees: a path-like string (contains a slash or backslash, and is not a URL other
 * than file://) is normalised first, so `/w/./.git/x` and `/w/a/../.git/x` match a glob for
 * `.git` directories and `/w/../etc` does not match a glob for `/w`. picomatch never lets `*` or
 * `**` match `.` or `..` segments, so without this a block rule could be sidestepped with `./`.
 * Other strings (e-mail addresses, names, URLs) are unchanged.
 */
export function globSubject(raw: string): string {
  let p = raw.startsWith('file://') ? raw.slice('file://'.length) : raw;
  if (p.includes('://') || (!p.includes('/') && !p.includes('\\'))) return raw;
  p = posix.normalize(p.replace(/\\/g, '/'));
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Normalises a configured root once at load time. */
export function normaliseRoot(root: string): string {
  return normalisePath(root) ?? root;
}

/**
 * True when `raw` names `root` itself or something below it after normalisation:
 * `/data/../etc` is not inside `/data`, and `/data2` is not inside `/data`.
 * A path that cannot be normalised is never inside anything (fail safe).
 */
export function isWithin(raw: string, roots: readonly string[]): boolean {
  const p = normalisePath(raw);
  if (p === undefined) return false;
  for (const root of roots) {
    if (root === '/') return true;
    if (p === root || p.startsWith(`${root}/`)) return true;
  }
  return false;
}
