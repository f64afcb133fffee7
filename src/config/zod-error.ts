import type { z } from 'zod';
import { closestName } from '../core/closest-name.js';
import { ConfigError } from '../core/errors.js';
import { allowedKeysAt, givenKeysAt } from './allowed-keys.js';

/** Renders a zod issue path as `a.b[2].c`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

/** What was parsed: the root schema and the document given to it, for hints on unknown keys. */
export interface ParsedSource {
  readonly schema: z.ZodType;
  readonly input?: unknown;
}

/**
 * Turns a failed zod parse into one ConfigError naming the file and every bad key path,
 * e.g. `warden.yaml: upstreams.fs.command: expected string, received number`. With the parsed
 * `source`, an unknown key also names the key it most likely meant (`unknown key 'stdoi' (did you
 * mean 'stdio'?)`), or the allowed keys when none is close and they are few.
 */
export function configErrorFromZod(error: z.ZodError, file: string, source?: ParsedSource): ConfigError {
  const issues = error.issues.flatMap(unionBranchIssues);
  const lines = issues.map((issue) => {
    const keyPath = formatKeyPath(issue.path);
    if (issue.code === 'unrecognized_keys') return `${file}: ${keyPath}: ${unknownKeysMessage(issue, source)}`;
    return `${file}: ${keyPath}: ${missingKeyMessage(issue) ?? issue.message}`;
  });
  const first = issues[0];
  return new ConfigError(lines.join('\n'), { file, keyPath: first ? formatKeyPath(first.path) : undefined });
}

type Issue = z.ZodError['issues'][number];

/**
 * A required key left out. zod says `Invalid input: expected number, received undefined`, which
 * reads like a wrong value was written; the operator has to add the key, so say that.
 */
function missingKeyMessage(issue: Issue): string | undefined {
  if (issue.code !== 'invalid_type' || !/received undefined$/.test(issue.message)) return undefined;
  const expected = (issue as { expected?: unknown }).expected;
  return `required key is missing${typeof expected === 'string' ? ` (expected ${expected})` : ''}`;
}

/** Beyond this many allowed keys, listing them all would bury the line; only a close match is named. */
const MAX_LISTED_KEYS = 8;

/**
 * `unknown key 'stdoi' (did you mean 'stdio'?)`, or `unknown key 'x' (expected one of: stdio,
 * http)`, or just `unknown key 'x'` when the allowed keys cannot be found or are many.
 */
function unknownKeysMessage(issue: Issue, source: ParsedSource | undefined): string {
  const keys = ((issue as { keys?: unknown[] }).keys ?? []).map(String);
  const plain = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
  if (source === undefined) return plain;
  // The hint is a courtesy on the error path: whatever goes wrong finding it, the error stands.
  try {
    return withKeyHints(keys, issue.path, source) ?? plain;
  } catch {
    return plain;
  }
}

function withKeyHints(keys: readonly string[], path: readonly PropertyKey[], source: ParsedSource): string | undefined {
  const allowed = allowedKeysAt(source.schema, path, keys, source.input);
  if (allowed === undefined || allowed.length === 0) return undefined;
  // A key already set is no likely meaning for another (`command` next to `comand`).
  const given = new Set(givenKeysAt(source.input, path) ?? []);
  const unset = allowed.filter((k) => !given.has(k));
  let unmatched = false;
  const named = keys.map((key) => {
    const meant = closestName(key, unset);
    if (meant === undefined) unmatched = true;
    return meant === undefined ? `'${key}'` : `'${key}' (did you mean '${meant}'?)`;
  });
  const list = unmatched && allowed.length <= MAX_LISTED_KEYS ? ` (expected one of: ${allowed.join(', ')})` : '';
  return `unknown key${keys.length > 1 ? 's' : ''} ${named.join(', ')}${list}`;
}

/**
 * A value that matches no branch of a union (a stdio or an HTTP upstream) is one zod issue,
 * "Invalid input" on the union's key, with each branch's issues inside: the operator needs the key
 * at fault (`upstreams.acme.args[0]`). The branch with the fewest issues is the one the value was
 * closest to (the first on a tie); its issues are reported with their full key paths.
 */
function unionBranchIssues(issue: Issue): Issue[] {
  // A refused record key (an upstream name) is one "Invalid key in record" issue; the key's own
  // issues say why (the name rule, the length), so those are reported at the key's path.
  if (issue.code === 'invalid_key') {
    const inner = (issue as { issues?: Issue[] }).issues ?? [];
    if (inner.length > 0) return inner.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue);
  }
  // A union with its own message (a schema's `error:`) already says what is wrong: kept as it is.
  const generic = issue.code === 'invalid_union' && issue.message === 'Invalid input';
  const branches = generic ? (issue as { errors?: Issue[][] }).errors ?? [] : [];
  const closest = branches.filter((b) => b.length > 0).reduce<Issue[] | undefined>((best, b) => (best === undefined || b.length < best.length ? b : best), undefined);
  if (closest === undefined) return [issue];
  return closest.flatMap((inner) => unionBranchIssues({ ...inner, path: [...issue.path, ...inner.path] } as Issue));
}
