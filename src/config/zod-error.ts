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
  const lines = error.issues.map((issue) => {
    const keyPath = formatKeyPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys?: string[] }).keys ?? [];
      return `${file}: ${keyPath}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
    }
    return `${file}: ${keyPath}: ${issue.message}`;
  });
  const first = error.issues[0];
  return new ConfigError(lines.join('\n'), { file, keyPath: first ? formatKeyPath(first.path) : undefined });
}
