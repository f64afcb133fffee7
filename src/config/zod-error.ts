import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';

/** Renders a zod issue path as `a.b[2].c`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

/**
 * Turns a failed zod parse into one ConfigError naming the file and every bad key path,
 * e.g. `warden.yaml: upstreams.fs.command: expected string, received number`.
 */
export function configErrorFromZod(error: z.ZodError, file: string): ConfigError {
  const issues = error.issues.flatMap(unionBranchIssues);
  const lines = issues.map((issue) => {
    const keyPath = formatKeyPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys?: string[] }).keys ?? [];
      return `${file}: ${keyPath}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
    }
    return `${file}: ${keyPath}: ${issue.message}`;
  });
  const first = issues[0];
  return new ConfigError(lines.join('\n'), { file, keyPath: first ? formatKeyPath(first.path) : undefined });
}

type Issue = z.ZodError['issues'][number];

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
